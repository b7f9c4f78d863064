"""Native kernels for the economy's step on the CPU, with the torch path as fallback.

At large B a step of the economy is a few hundred tensor operations, each a full pass over
[B, N, ...] memory, and at B = 1 each is a few microseconds of dispatch. Here the step's rules
are C loops over worlds and agents: the first half (expiry, regrowth, moving, gathering and
building, posting) in one pass over chunks of worlds whose books and map rows stay in cache;
clearing in two passes around torch's own sort; the escrowed holdings; and the observation
(an 11 x 11 window of six channels per agent, the holdings, the book's quotes), each agent's
row written once. The random draws stay torch's, made in the same order. The kernels compute
exactly what the torch path computes, in the same float32 operations (no fast-math, no fused
multiply-add), so every number is bit-identical; ``tests/envs/economy/test_native.py`` and
``test_world_digest.py`` hold them to that.

The C source is compiled once per machine (by :mod:`coopsim.envs.native_build`, shared with the
public-goods world) with the local C compiler (``$CC``, else ``cc``,
``gcc`` or ``clang``) into a cache folder (``$COOPSIM_CACHE``, else ``~/.cache/coopsim``), then
loaded with :mod:`ctypes`: no network, no torch headers, about a second to compile and
nothing after (:func:`compile_seconds` says what this process spent). Where no compiler is
found or compiling fails, a note is printed once and the torch path runs; setting
``COOPSIM_NATIVE=0`` turns the kernels off. The torch path also runs wherever a kernel's
preconditions do not hold (another device, non-contiguous or differently typed state).
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.envs import native_build
from coopsim.envs.native_build import args

SOURCE = r"""
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#define NO_ASK ((((int64_t)1) << 62) - 1)

/* The observation of every agent of B worlds, [B, N, O] float32 (see observation.py):
   the 6 x SS map window, then coin / 100, wood / 10, stone / 10, labour / 1000,
   build skill / max skill, gather bonus, place (2), clock (2), the book's quotes (R x 6)
   and the mechanisms' M numbers. Order book [B, N, R, 2, K] int64, -1 = empty slot. */
void economy_observe(
    int64_t B, int64_t N, int64_t T, int64_t O, int64_t SS, int64_t R, int64_t K,
    const uint8_t *code, const int64_t *pos, const int64_t *window,
    const float *coin, const float *held, const float *labour, const float *build_skill,
    float max_skill, const float *gather_bonus, const float *place, const float *clock,
    const int64_t *order_price, int64_t max_price, const float *mech, int64_t M,
    float *out)
{
    uint8_t *row = (uint8_t *)malloc((size_t)T);
    uint8_t *vals = (uint8_t *)malloc((size_t)SS);
    int64_t *best = (int64_t *)malloc(sizeof(int64_t) * (size_t)(N * R * 2));
    const float top = (float)max_price;
    const float kf = (float)K;
    for (int64_t b = 0; b < B; b++) {
        const int64_t *p = pos + b * N;
        memcpy(row, code + b * T, (size_t)T);
        for (int64_t n = 0; n < N; n++) row[p[n]] |= 32; /* the agent channel's bit */
        /* Each agent's best bid (-1 if none) and the negative of its lowest ask. */
        const int64_t *book = order_price + b * N * R * 2 * K;
        for (int64_t n = 0; n < N; n++) {
            for (int64_t r = 0; r < R; r++) {
                const int64_t *bid = book + ((n * R + r) * 2) * K, *ask = bid + K;
                int64_t bb = bid[0], na = -(ask[0] & NO_ASK);
                for (int64_t k = 1; k < K; k++) {
                    if (bid[k] > bb) bb = bid[k];
                    int64_t v = -(ask[k] & NO_ASK);
                    if (v > na) na = v;
                }
                best[(n * R + r) * 2] = bb;
                best[(n * R + r) * 2 + 1] = na;
            }
        }
        for (int64_t n = 0; n < N; n++) {
            const int64_t i = b * N + n;
            float *o = out + i * O;
            const uint8_t *here = row + p[n];
            for (int64_t j = 0; j < SS; j++) vals[j] = here[window[j]];
            for (int64_t c = 0; c < 6; c++) {
                float *oc = o + c * SS;
                for (int64_t j = 0; j < SS; j++) oc[j] = (float)((vals[j] >> c) & 1);
            }
            float *t = o + 6 * SS;
            t[0] = coin[i] / 100.0f;
            for (int64_t r = 0; r < R; r++) t[1 + r] = held[i * R + r] / 10.0f;
            t += 1 + R;
            t[0] = labour[i] / 1000.0f;
            t[1] = build_skill[i] / max_skill;
            t[2] = gather_bonus[i];
            t[3] = place[p[n] * 2];
            t[4] = place[p[n] * 2 + 1];
            t[5] = clock[0];
            t[6] = clock[1];
            t += 7;
            for (int64_t r = 0; r < R; r++, t += 6) {
                int64_t ob, oa;
                if (N == 1) {
                    ob = best[r * 2] - (((int64_t)1) << 40);
                    oa = best[r * 2 + 1] - (((int64_t)1) << 40);
                } else {
                    ob = INT64_MIN; oa = INT64_MIN;
                    for (int64_t m = 0; m < N; m++) {
                        if (m == n) continue;
                        if (best[(m * R + r) * 2] > ob) ob = best[(m * R + r) * 2];
                        if (best[(m * R + r) * 2 + 1] > oa) oa = best[(m * R + r) * 2 + 1];
                    }
                }
                oa = -oa;
                t[0] = (float)(ob < 0 ? 0 : ob) / top;
                t[1] = (float)(oa > max_price ? max_price : oa) / top;
                t[2] = ob >= 0 ? 1.0f : 0.0f;
                t[3] = oa <= max_price ? 1.0f : 0.0f;
                const int64_t *bid = book + ((n * R + r) * 2) * K, *ask = bid + K;
                int64_t nb = 0, na = 0;
                for (int64_t k = 0; k < K; k++) { nb += bid[k] >= 0; na += ask[k] >= 0; }
                t[4] = (float)nb / kf;
                t[5] = (float)na / kf;
            }
            for (int64_t m = 0; m < M; m++) t[m] = mech[i * M + m];
        }
    }
    free(row); free(vals); free(best);
}

/* Orders age (market.Market.expire): every open slot of the book [BN, R, 2, K] one step
   older. Branch-free: half the slots are open in no pattern a branch predictor could learn.
   Returns whether any order is now past `duration`. */
int64_t economy_age(int64_t BN, int64_t R, int64_t K, int64_t duration, const int64_t *price,
                    int64_t *age)
{
    const int64_t slots = BN * R * 2 * K;
    int64_t any = 0;
    for (int64_t i = 0; i < slots; i++) {
        const int64_t open = price[i] >= 0;
        age[i] += open;
        any |= open & (age[i] >= duration);
    }
    return any;
}

/* Orders past `duration` close, returning their escrow to coin [BN] and stock [BN, R]. */
void economy_refund(int64_t BN, int64_t R, int64_t K, int64_t duration, int64_t *price,
                    const int64_t *age, float *coin, float *stock)
{
    for (int64_t a = 0; a < BN; a++) {
        int64_t refund = 0;
        for (int64_t r = 0; r < R; r++) {
            int64_t *bid = price + ((a * R + r) * 2) * K, *ask = bid + K;
            const int64_t *bage = age + ((a * R + r) * 2) * K, *aage = bage + K;
            int64_t back = 0;
            for (int64_t k = 0; k < K; k++) {
                const int64_t eb = (bid[k] >= 0) & (bage[k] >= duration);
                const int64_t ea = (ask[k] >= 0) & (aage[k] >= duration);
                refund += eb ? bid[k] : 0;
                bid[k] = eb ? -1 : bid[k];
                back += ea;
                ask[k] = ea ? -1 : ask[k];
            }
            stock[a * R + r] += (float)back;
        }
        coin[a] += (float)refund;
    }
}

/* Expiry as market.Market.expire: age, then refund only if some order in the batch expired. */
void economy_expire(int64_t BN, int64_t R, int64_t K, int64_t duration,
                    int64_t *price, int64_t *age, float *coin, float *stock)
{
    if (economy_age(BN, R, K, duration, price, age))
        economy_refund(BN, R, K, duration, price, age, coin, stock);
}

/* Every agent moves at once (movement.Movement.step): a move fails into water, another
   agent's house or a tile an agent held at the start; ties go to the earlier rank
   (earlier[i * N + j]: j moves before i). Returns 0, or -1 (nothing changed) if an act is
   out of range. */
int economy_move(int64_t B, int64_t N, int64_t T, int64_t acts, const int64_t *act,
                 int64_t *pos, const uint8_t *tiles, const int64_t *owner,
                 const int64_t *delta, const uint8_t *is_move, const uint8_t *earlier,
                 int64_t water, uint8_t *moved)
{
    for (int64_t i = 0; i < B * N; i++) if (act[i] < 0 || act[i] >= acts) return -1;
    int64_t target[64];
    uint8_t ok[64];
    for (int64_t b = 0; b < B; b++) {
        int64_t *p = pos + b * N;
        const int64_t *a = act + b * N;
        const uint8_t *tl = tiles + b * T;
        const int64_t *ow = owner + b * T;
        if (b + 2 < B) /* the tiles two worlds on: each world's map is far from the last */
            for (int64_t i = 0; i < N; i++) {
                const int64_t tg = pos[(b + 2) * N + i];
                __builtin_prefetch(tiles + (b + 2) * T + tg);
                __builtin_prefetch(owner + (b + 2) * T + tg);
            }
        for (int64_t i = 0; i < N; i++) {
            const int64_t tg = p[i] + delta[a[i]];
            int occupied = 0;
            for (int64_t j = 0; j < N; j++) occupied |= tg == p[j];
            target[i] = tg;
            ok[i] = is_move[a[i]] && tl[tg] != water && (ow[tg] < 0 || ow[tg] == i) && !occupied;
        }
        for (int64_t i = 0; i < N; i++) {
            int beaten = 0;
            for (int64_t j = 0; j < N; j++)
                beaten |= target[j] == target[i] && ok[j] && earlier[i * N + j];
            moved[b * N + i] = ok[i] && !beaten;
        }
        for (int64_t i = 0; i < N; i++) if (moved[b * N + i]) p[i] = target[i];
    }
    return 0;
}

/* New orders into each agent's first free slot, escrowed (market.Market.post); resources
   wood (0) then stone (1), R = 2. orders [BN, R] head choices; side, price, is_bid, is_ask
   [choices] the choice tables. Writes the orders placed per agent into `placed` [BN].
   Returns 0, or -1 (nothing changed) if a choice is out of range. */
int economy_post(int64_t BN, int64_t K, int64_t choices, int per_resource,
                 const int64_t *orders, const int64_t *side_of, const int64_t *price_of,
                 const uint8_t *is_bid, const uint8_t *is_ask,
                 int64_t *price, int64_t *age, float *coin, float *stock, int64_t *placed)
{
    const int64_t R = 2;
    for (int64_t i = 0; i < BN * R; i++) if (orders[i] < 0 || orders[i] >= choices) return -1;
    for (int64_t a = 0; a < BN; a++) {
        int64_t side[2], px[2], slot[2];
        int room[2], bid[2], ask_ok[2];
        for (int64_t r = 0; r < R; r++) {
            const int64_t o = orders[a * R + r];
            side[r] = side_of[o];
            px[r] = price_of[o];
            const int64_t *sl = price + ((a * R + r) * 2 + side[r]) * K;
            slot[r] = 0;
            room[r] = 0;
            for (int64_t k = K - 1; k >= 0; k--) if (sl[k] < 0) { slot[r] = k; room[r] = 1; }
            if (per_resource) {
                const int64_t *both = price + (a * R + r) * 2 * K;
                int64_t open = 0;
                for (int64_t k = 0; k < 2 * K; k++) open += both[k] >= 0;
                room[r] = room[r] && open < K;
            }
            bid[r] = is_bid[o] && room[r];
            ask_ok[r] = is_ask[o] && room[r] && stock[a * R + r] >= 1.0f;
        }
        const float c = coin[a];
        const int bid_wood = bid[0] && c >= (float)px[0];
        const float left = c - (float)(bid_wood * px[0]);
        const int bid_stone = bid[1] && left >= (float)px[1];
        const int bid_ok[2] = {bid_wood, bid_stone};
        coin[a] = c - (float)(bid_ok[0] * px[0] + bid_ok[1] * px[1]);
        int64_t count = 0;
        for (int64_t r = 0; r < R; r++) {
            stock[a * R + r] -= ask_ok[r] ? 1.0f : 0.0f;
            const int accept = bid_ok[r] || ask_ok[r];
            count += accept;
            if (accept) {
                const int64_t at = ((a * R + r) * 2 + side[r]) * K + slot[r];
                if (px[r] > price[at]) price[at] = px[r];
                age[at] = 0;
            }
        }
        placed[a] = count;
    }
    return 0;
}

/* Candidate tiles regrow (gathering.Regrowth): cand [B, K] tiles, accept [B, K] bool;
   an accepted candidate that is an empty source sets its present bit. */
void economy_regrow(int64_t B, int64_t T, int64_t K, uint8_t *code, const uint8_t *present,
                    const int64_t *cand, const uint8_t *accept, int64_t source_bit,
                    int64_t present_mask)
{
    for (int64_t b = 0; b < B; b++) {
        uint8_t *c = code + b * T;
        const uint8_t *pb = present + b * T;
        if (b + 2 < B)
            for (int64_t k = 0; k < K; k++) {
                const int64_t t = (b + 2) * T + cand[(b + 2) * K + k];
                __builtin_prefetch(code + t);
                __builtin_prefetch(present + t);
            }
        for (int64_t k = 0; k < K; k++) {
            const int64_t t = cand[b * K + k];
            if (accept[b * K + k] && (c[t] & (source_bit | present_mask)) == source_bit)
                c[t] |= pb[t];
        }
    }
}

/* Holdings with escrow counted: coin_out [BN] = coin + open bids' prices, held [BN, R] =
   stock + open asks (market.Market.escrow_coin / escrow_units). */
void economy_holdings(int64_t BN, int64_t R, int64_t K, const int64_t *price,
                      const float *coin, const float *stock, float *coin_out, float *held)
{
    for (int64_t a = 0; a < BN; a++) {
        int64_t esc = 0;
        for (int64_t r = 0; r < R; r++) {
            const int64_t *bid = price + ((a * R + r) * 2) * K, *ask = bid + K;
            int64_t units = 0;
            for (int64_t k = 0; k < K; k++) {
                esc += bid[k] > 0 ? bid[k] : 0;
                units += ask[k] >= 0;
            }
            held[a * R + r] = stock[a * R + r] + (float)units;
        }
        coin_out[a] = coin[a] + (float)esc;
    }
}

/* Gathering then building on each agent's tile (gathering.gather, building.build), R = 2.
   draw [BN] the bonus draws; writes gathered, built (bool), units, revenue (float) [BN] and
   updates stock [BN, 2], the tiles' flags and the houses' owners. */
void economy_act(int64_t B, int64_t N, int64_t T, const int64_t *pos, const uint8_t *tiles,
                 uint8_t *code, int64_t *owner, float *stock, const int64_t *act,
                 int everyone_gathers, int64_t gather_act, int64_t build_act,
                 const float *draw, const float *bonus, const float *skill, float payment,
                 int64_t empty_kind, int64_t stone_kind, int64_t present, int64_t house,
                 uint8_t *gathered, float *units, uint8_t *built, float *revenue)
{
    for (int64_t b = 0; b < B; b++) {
        if (b + 2 < B)
            for (int64_t n = 0; n < N; n++) {
                const int64_t t = (b + 2) * T + pos[(b + 2) * N + n];
                __builtin_prefetch(tiles + t);
                __builtin_prefetch(code + t);
                __builtin_prefetch(owner + t);
            }
        for (int64_t n = 0; n < N; n++) {
            const int64_t i = b * N + n, t = b * T + pos[i];
            const uint8_t kind = tiles[t];
            uint8_t c = code[t];
            float *st = stock + i * 2;
            const int g = (everyone_gathers || act[i] == gather_act) && (c & present) != 0;
            const float u = g ? 1.0f + (draw[i] < bonus[i] ? 1.0f : 0.0f) : 0.0f;
            st[kind == stone_kind ? 1 : 0] += u;
            if (g) c &= (uint8_t)~present;
            const int h = act[i] == build_act && st[0] >= 1.0f && st[1] >= 1.0f
                          && owner[t] < 0 && kind == empty_kind;
            if (h) {
                st[0] -= 1.0f;
                st[1] -= 1.0f;
                owner[t] = n;
                c |= (uint8_t)house;
            }
            code[t] = c;
            gathered[i] = (uint8_t)g;
            units[i] = u;
            built[i] = (uint8_t)h;
            revenue[i] = h ? payment * skill[i] : 0.0f;
        }
    }
}

/* Clearing, first half (market.Market.match): the worlds whose book is crossed (a bid at
   or above an ask of the same resource) go to rows [M], and their sort keys to keys
   [M, R, 2, N K] (bids: price << shift + age, asks: (max_price - price) << shift + age,
   -1 for an empty slot). Returns M. */
int64_t economy_book_keys(int64_t B, int64_t N, int64_t R, int64_t K, const int64_t *price,
                          const int64_t *age, int64_t max_price, int64_t shift,
                          int64_t *rows, int64_t *keys)
{
    int64_t m = 0;
    const int64_t NK = N * K;
    for (int64_t b = 0; b < B; b++) {
        const int64_t *book = price + b * N * R * 2 * K, *ages = age + b * N * R * 2 * K;
        int crossed = 0;
        for (int64_t r = 0; r < R && !crossed; r++) {
            int64_t bid = -1, ask = -1;
            for (int64_t n = 0; n < N; n++) {
                const int64_t *s = book + ((n * R + r) * 2) * K;
                for (int64_t k = 0; k < K; k++) {
                    if (s[k] > bid) bid = s[k];
                    if (s[K + k] >= 0 && (ask < 0 || s[K + k] < ask)) ask = s[K + k];
                }
            }
            crossed = bid >= 0 && ask >= 0 && bid >= ask;
        }
        if (!crossed) continue;
        rows[m] = b;
        int64_t *out = keys + m * R * 2 * NK;
        for (int64_t r = 0; r < R; r++)
            for (int64_t side = 0; side < 2; side++)
                for (int64_t n = 0; n < N; n++)
                    for (int64_t k = 0; k < K; k++) {
                        const int64_t at = ((n * R + r) * 2 + side) * K + k;
                        const int64_t p = book[at];
                        out[(r * 2 + side) * NK + n * K + k] =
                            p < 0 ? -1 : ((side ? max_price - p : p) << shift) + ages[at];
                    }
        m++;
    }
    return m;
}

/* Clearing, second half: the k-th bid meets the k-th ask of the sorted keys [M, R, 2, NK]
   (idx: each key's place n K + k) while bid >= ask; trades at the older order's price
   (same step: the midpoint, or the ask's if ask_price), self-trades cancelled. Settles
   coin [B, N], stock [B, N, R], closes the matched slots and writes paid, proceeds, bought
   and sold into out [4, B, N] (zeros for the worlds not cleared). */
void economy_clear(int64_t M, int64_t B, int64_t N, int64_t R, int64_t K, const int64_t *rows,
                   const int64_t *keys, const int64_t *idx, int64_t shift, int64_t max_price,
                   int ask_price, int64_t *price, float *coin, float *stock, float *out)
{
    const int64_t NK = N * K, mask = (((int64_t)1) << shift) - 1;
    float *acc = (float *)malloc(sizeof(float) * (size_t)(R * 6 * N));
    for (int64_t mi = 0; mi < M; mi++) {
        const int64_t b = rows[mi];
        memset(acc, 0, sizeof(float) * (size_t)(R * 6 * N));
        int64_t *book = price + b * N * R * 2 * K;
        for (int64_t r = 0; r < R; r++) {
            const int64_t *kb = keys + ((mi * R + r) * 2) * NK, *ka = kb + NK;
            const int64_t *ib = idx + ((mi * R + r) * 2) * NK, *ia = ib + NK;
            float *bought = acc + (r * 6) * N, *spent = bought + N, *refund = spent + N;
            float *sold = refund + N, *proceeds = sold + N, *back = proceeds + N;
            for (int64_t j = 0; j < NK; j++) {
                const int64_t bp = kb[j] >> shift, ap = max_price - (ka[j] >> shift);
                if (!(kb[j] >= 0 && ka[j] >= 0 && bp >= ap)) continue;
                const int64_t nb = ib[j] / K, na = ia[j] / K;
                const int64_t age_b = kb[j] & mask, age_a = ka[j] & mask;
                const float same = ask_price ? (float)ap : (float)(bp + ap) / 2.0f;
                const float px = age_b > age_a ? (float)bp : age_a > age_b ? (float)ap : same;
                if (nb != na) {
                    bought[nb] += 1.0f;
                    spent[nb] += px;
                    refund[nb] += (float)bp - px;
                    sold[na] += 1.0f;
                    proceeds[na] += px;
                } else {
                    refund[nb] += (float)bp;
                    back[na] += 1.0f;
                }
                book[((nb * R + r) * 2) * K + ib[j] % K] = -1;
                book[((na * R + r) * 2 + 1) * K + ia[j] % K] = -1;
            }
        }
        for (int64_t n = 0; n < N; n++) {
            float gain = 0.0f, paid = 0.0f, got = 0.0f, units = 0.0f, gone = 0.0f;
            for (int64_t r = 0; r < R; r++) {
                const float *a = acc + (r * 6) * N;
                gain += a[2 * N + n] + a[4 * N + n];
                stock[(b * N + n) * R + r] += a[n] + a[5 * N + n];
                paid += a[N + n];
                got += a[4 * N + n];
                units += a[n];
                gone += a[3 * N + n];
            }
            coin[b * N + n] += gain;
            out[b * N + n] = paid;
            out[(B + b) * N + n] = got;
            out[(2 * B + b) * N + n] = units;
            out[(3 * B + b) * N + n] = gone;
        }
    }
    free(acc);
}

/* The step's first half for B worlds, a chunk of worlds at a time so that each chunk's book,
   map rows and agents stay in cache from one rule to the next: expiry, regrowth, moving,
   gathering and building, posting (each as its own kernel above). Acts and order choices are
   checked for the whole batch first, so a bad one changes nothing; the book ages in one pass
   first, since expiry refunds (and adds 0 where nothing expired) only if some order of the
   batch expired. Returns 0, -1 for a bad act, -2 for a bad order choice. */
int economy_pre(int64_t B, int64_t N, int64_t T, int64_t K, int64_t chunk, int64_t duration,
                int64_t *price, int64_t *age, float *coin, float *stock,
                int64_t KC, uint8_t *code, const uint8_t *present, const int64_t *cand,
                const uint8_t *accept, int64_t source_bit, int64_t present_mask,
                int64_t acts, const int64_t *act, int64_t *pos, const uint8_t *tiles,
                int64_t *owner, const int64_t *delta, const uint8_t *is_move,
                const uint8_t *earlier, int64_t water, uint8_t *moved,
                int everyone_gathers, int64_t gather_act, int64_t build_act,
                const float *draw, const float *bonus, const float *skill, float payment,
                int64_t empty_kind, int64_t stone_kind, int64_t present_bit, int64_t house_bit,
                uint8_t *gathered, float *units, uint8_t *built, float *revenue,
                int64_t choices, int per_resource, const int64_t *orders,
                const int64_t *side_of, const int64_t *price_of, const uint8_t *is_bid,
                const uint8_t *is_ask, int64_t *placed)
{
    const int64_t R = 2, book = N * R * 2 * K;
    for (int64_t i = 0; i < B * N; i++) if (act[i] < 0 || act[i] >= acts) return -1;
    for (int64_t i = 0; i < B * N * R; i++)
        if (orders[i] < 0 || orders[i] >= choices) return -2;
    const int64_t expired = economy_age(B * N, R, K, duration, price, age);
    for (int64_t b0 = 0; b0 < B; b0 += chunk) {
        const int64_t cb = b0 + chunk <= B ? chunk : B - b0, a0 = b0 * N;
        if (expired)
            economy_refund(cb * N, R, K, duration, price + b0 * book, age + b0 * book,
                           coin + a0, stock + a0 * R);
        economy_regrow(cb, T, KC, code + b0 * T, present + b0 * T, cand + b0 * KC,
                       accept + b0 * KC, source_bit, present_mask);
        economy_move(cb, N, T, acts, act + a0, pos + a0, tiles + b0 * T, owner + b0 * T,
                     delta, is_move, earlier, water, moved + a0);
        economy_act(cb, N, T, pos + a0, tiles + b0 * T, code + b0 * T, owner + b0 * T,
                    stock + a0 * R, act + a0, everyone_gathers, gather_act, build_act,
                    draw + a0, bonus + a0, skill + a0, payment, empty_kind, stone_kind,
                    present_bit, house_bit, gathered + a0, units + a0,
                    built + a0, revenue + a0);
        economy_post(cb * N, K, choices, per_resource, orders + a0 * R, side_of, price_of,
                     is_bid, is_ask, price + b0 * book, age + b0 * book, coin + a0,
                     stock + a0 * R, placed + a0);
    }
    return 0;
}
"""

KERNELS = native_build.NativeLibrary("economy", SOURCE, "economy kernels")

# The module's names for its kernels' state, which callers and tests use (NativeLibrary's).
library = KERNELS.library
note = KERNELS.note
compile_seconds = KERNELS.compile_seconds
set_enabled = KERNELS.set_enabled
enabled = KERNELS.enabled


def observe(
    out: Tensor,
    code: Tensor,
    pos: Tensor,
    window: Tensor,
    coin: Tensor,
    held: Tensor,
    labour: Tensor,
    build_skill: Tensor,
    max_skill: float,
    gather_bonus: Tensor,
    place: Tensor,
    clock: Tensor,
    order_price: Tensor,
    max_price: int,
    mech: Tensor,
) -> None:
    """Fill ``out`` [B, N, O] float32 with the observation (layout in observation.py).

    Every tensor must be contiguous on the CPU with the dtypes the state has (the caller
    checks); ``mech`` is [B, N, M] float32, the mechanisms' numbers.
    """
    b, n, o = out.shape
    r, k = order_price.shape[2], order_price.shape[4]
    KERNELS.require().economy_observe(
        *args(
            b, n, code.shape[1], o, window.numel(), r, k,
            code, pos, window, coin, held, labour, build_skill, max_skill, gather_bonus, place,
            clock, order_price, max_price, mech, mech.shape[-1], out,
        )
    )  # fmt: skip


def expire(
    order_price: Tensor, order_age: Tensor, coin: Tensor, stock: Tensor, duration: int
) -> None:
    """Age the book [B, N, R, 2, K] and close expired orders, refunding ``coin`` [B, N] and
    ``stock`` [B, N, R] in place, as :meth:`Market.expire`."""
    b, n, r, _, k = order_price.shape
    KERNELS.require().economy_expire(
        *args(b * n, r, k, duration, order_price, order_age, coin, stock)
    )


def move(
    act: Tensor,
    pos: Tensor,
    tiles: Tensor,
    owner: Tensor,
    delta: Tensor,
    is_move: Tensor,
    earlier: Tensor,
    water: int,
    moved: Tensor,
) -> None:
    """Move agents as :meth:`Movement.step`, updating ``pos`` [B, N] and writing ``moved``
    [B, N] bool; ``act`` [B, N] int64 must hold valid acts."""
    b, n = pos.shape
    if act.shape != pos.shape or moved.shape != pos.shape or owner.shape != tiles.shape:
        raise ValueError("move needs act, pos and moved [B, N], tiles and owner [B, T]")
    if n > 64:
        raise ValueError("the native move handles up to 64 agents a world")
    tables = (delta, is_move, earlier)
    code = KERNELS.require().economy_move(
        *args(b, n, tiles.shape[1], delta.numel(), act, pos, tiles, owner, *tables, water, moved)
    )
    if code:
        raise IndexError(f"an act outside 0..{delta.numel() - 1}")


def post(
    orders: Tensor,
    tables: tuple[Tensor, Tensor, Tensor, Tensor],
    per_resource: bool,
    order_price: Tensor,
    order_age: Tensor,
    coin: Tensor,
    stock: Tensor,
    placed: Tensor,
) -> None:
    """Post orders as :meth:`Market.post`: ``orders`` [B, N, 2] head choices; ``tables`` the
    choice's side, price (int64), is-bid and is-ask (bool); ``placed`` [B, N] int64 out."""
    b, n, r, _, k = order_price.shape
    if r != 2 or orders.shape != (b, n, 2) or stock.shape != (b, n, 2) or coin.shape != (b, n):
        raise ValueError("post needs orders and stock [B, N, 2] and coin [B, N] of the book")
    choices = tables[0].numel()
    book = (order_price, order_age, coin, stock)
    code = KERNELS.require().economy_post(
        *args(b * n, k, choices, per_resource, orders, *tables, *book, placed)
    )
    if code:
        raise IndexError(f"an order choice outside 0..{choices - 1}")


def regrow(
    code: Tensor, present: Tensor, cand: Tensor, accept: Tensor, source_bit: int, mask: int
) -> None:
    """Regrow the accepted candidate tiles ``cand`` [B, K] of ``code`` [B, T] in place, as
    :class:`Regrowth` does (the draws are torch's, made by the caller)."""
    b, t = code.shape
    if present.shape != code.shape or cand.shape != accept.shape or cand.shape[0] != b:
        raise ValueError("regrow needs code and present [B, T], cand and accept [B, K]")
    KERNELS.require().economy_regrow(
        *args(b, t, cand.shape[1], code, present, cand, accept, source_bit, mask)
    )


def holdings(order_price: Tensor, coin: Tensor, stock: Tensor) -> tuple[Tensor, Tensor]:
    """Coin [B, N] and units [B, N, R] with the escrow of open bids and asks counted, as
    ``coin + Market.escrow_coin`` and ``stock + Market.escrow_units``."""
    b, n, r, _, k = order_price.shape
    if coin.shape != (b, n) or stock.shape != (b, n, r):
        raise ValueError("holdings needs coin [B, N] and stock [B, N, R] of the book")
    coin_out, held = torch.empty_like(coin), torch.empty_like(stock)
    KERNELS.require().economy_holdings(*args(b * n, r, k, order_price, coin, stock, coin_out, held))
    return coin_out, held


def _gathering(
    state,  # EconomyState
    everyone_gathers: bool,
    draw: Tensor,
    payment: float,
    codes: tuple[int, int, int, int, int, int],
) -> tuple[tuple, tuple[Tensor, Tensor, Tensor, Tensor]]:
    """The arguments of gathering and building that ``economy_act`` and ``economy_pre`` both
    end their lists with (from ``everyone_gathers`` to the outputs), and those outputs:
    gathered [B, N] bool, units float, built bool, revenue float. ``codes`` as for
    :func:`act`."""
    b, n = state.pos.shape
    gathered, built = (torch.empty(b, n, dtype=torch.bool) for _ in range(2))
    units, revenue = (torch.empty(b, n, dtype=torch.float32) for _ in range(2))
    gather_act, build_act, empty, stone, present, house = codes
    outputs = (gathered, units, built, revenue)
    skills = (draw, state.gather_bonus, state.build_skill)
    kinds = (payment, empty, stone, present, house)
    return (everyone_gathers, gather_act, build_act, *skills, *kinds, *outputs), outputs


def act(
    state,  # EconomyState (not imported: the state module imports nothing from here)
    act: Tensor,
    everyone_gathers: bool,
    draw: Tensor,
    payment: float,
    codes: tuple[int, int, int, int, int, int],
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Gather then build on every agent's tile, as ``gathering.gather`` and
    ``building.build`` do, updating the state in place. ``draw`` [B, N] are the bonus draws;
    ``codes`` the gather and build acts, the empty and stone tile kinds, the present and house
    bits. Returns gathered [B, N] bool, units [B, N] float, built [B, N] bool, revenue [B, N]
    float."""
    b, n = state.pos.shape
    if act.shape != (b, n) or draw.shape != (b, n) or state.stock.shape != (b, n, 2):
        raise ValueError("act needs act and draw [B, N] and a stock of two resources")
    gathering, outputs = _gathering(state, everyone_gathers, draw, payment, codes)
    tiles = (state.pos, state.tiles, state.code, state.house_owner, state.stock)
    KERNELS.require().economy_act(*args(b, n, state.code.shape[1], *tiles, act, *gathering))
    return outputs


def match(
    order_price: Tensor,
    order_age: Tensor,
    coin: Tensor,
    stock: Tensor,
    max_price: int,
    shift: int,
    ask_price: bool,
) -> Tensor:
    """Clear the books of the crossed worlds as :meth:`Market.match`, settling ``coin`` and
    ``stock`` and closing matched slots in place; returns [4, B, N] float: paid, proceeds,
    bought, sold. The keys are sorted by torch's own sort, so orders of equal price and age
    are served in the order the torch path serves them."""
    b, n, r, _, k = order_price.shape
    if order_age.shape != order_price.shape or coin.shape != (b, n) or stock.shape != (b, n, r):
        raise ValueError("match needs the book, its ages, coin [B, N] and stock [B, N, R]")
    lib = KERNELS.require()
    rows = torch.empty(b, dtype=torch.long)
    keys = torch.empty(b, r, 2, n * k, dtype=torch.long)
    m = lib.economy_book_keys(
        *args(b, n, r, k, order_price, order_age, max_price, shift, rows, keys)
    )
    out = torch.zeros(4, b, n, dtype=torch.float32)
    if m == 0:
        return out
    key, idx = keys[:m].sort(-1, descending=True)
    settled = (order_price, coin, stock, out)
    lib.economy_clear(*args(m, b, n, r, k, rows, key, idx, shift, max_price, ask_price, *settled))
    return out


CHUNK = 32  # worlds per chunk of :func:`pre`: their books and map rows stay in cache


def pre(
    state,  # EconomyState
    market_tables: tuple[Tensor, Tensor, Tensor, Tensor],
    duration: int,
    per_resource: bool,
    cand: Tensor,
    accept: Tensor,
    act: Tensor,
    orders: Tensor,
    move_tables: tuple[Tensor, Tensor, Tensor],
    everyone_gathers: bool,
    draw: Tensor,
    payment: float,
    codes: tuple[int, int, int, int, int, int, int, int],
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Expiry, regrowth, moving, gathering and building, and posting, in that order, a chunk
    of worlds at a time (see the C source); the state is updated in place except ``pos``,
    which is replaced. ``move_tables`` are the acts' tile offsets, whether each moves, and
    this step's priority matrix; ``codes`` the water, empty and stone tile kinds, the gather
    and build acts, and the source, present and house bits. Returns moved, gathered, units,
    built, revenue and orders placed, each [B, N]."""
    s = state
    b, n = s.pos.shape
    kc = cand.shape[1]
    if (
        act.shape != (b, n)
        or orders.shape != (b, n, 2)
        or draw.shape != (b, n)
        or cand.shape != accept.shape
        or cand.shape[0] != b
        or s.order_price.shape[:3] != (b, n, 2)
        or s.stock.shape != (b, n, 2)
    ):
        raise ValueError("pre needs act and draw [B, N], orders [B, N, 2], cand and accept [B, K]")
    water, empty, stone, gather_act, build_act, source, present, house = codes
    delta, is_move, earlier = move_tables
    pos = s.pos.clone()  # a new tensor, as the torch path makes: callers may hold the old
    moved = torch.empty(b, n, dtype=torch.bool)
    placed = torch.empty(b, n, dtype=torch.long)
    acts = (gather_act, build_act, empty, stone, present, house)
    gathering, outputs = _gathering(s, everyone_gathers, draw, payment, acts)
    choices = market_tables[0].numel()
    code = KERNELS.require().economy_pre(
        *args(
            b, n, s.code.shape[1], s.order_price.shape[4], CHUNK, duration,
            s.order_price, s.order_age, s.coin, s.stock,
            kc, s.code, s.present_bit, cand, accept, source, source | present,
            delta.numel(), act, pos, s.tiles, s.house_owner, delta, is_move, earlier, water, moved,
            *gathering,
            choices, per_resource, orders, *market_tables, placed,
        )
    )  # fmt: skip
    if code == -1:
        raise IndexError(f"an act outside 0..{delta.numel() - 1}")
    if code == -2:
        raise IndexError(f"an order choice outside 0..{choices - 1}")
    s.pos = pos
    return moved, *outputs, placed
