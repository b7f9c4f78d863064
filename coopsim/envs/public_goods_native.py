"""The public-goods observation in one native pass, with the torch path as fallback.

Why: at large B the observation is most of a public-goods step. The torch path writes each
distinct value once into a small row per world and copies it out to every agent's slots with
one ``index_select`` (:class:`~coopsim.envs.observation.GatherPacker`): about one cycle per
copied float, plus a strided pass per [B, N] block written into the rows. Here a C loop over
worlds writes each agent's row of the [B, N, obs_dim] output directly from the world's state,
with no source rows at all. Where no mechanism moves money, a round's payoffs (gross and its copy,
net) are one pass too, in place of torch's ``sub``, broadcast ``add_`` and ``copy_``.

The arithmetic is torch's, in the same float32 operations (no fast-math, no fused
multiply-add). Sums over agents stay torch's ``mm``, whose summation order depends on the
input's strides, so the shares of the last contributions are written into the packer's rows as
the torch path has them and summed there; the kernel divides the payoffs, the others' mean and
the current contributions exactly as the torch path does, so the outputs are bit-identical (``tests/bench/test_public_goods_earlier.py`` compares digests
on both paths). Built and cached by :mod:`coopsim.envs.native_build`; ``COOPSIM_NATIVE=0`` or
:func:`set_enabled` runs the torch path.
"""

from __future__ import annotations

import torch
from torch import Tensor

from coopsim.envs import native_build
from coopsim.envs.native_build import args

SOURCE = r"""
#include <stdint.h>
#include <string.h>

/* One world's rows: agent i's observation is
     progress, stage, first, last[i], payoff[i] / unit, (total - last[i]) / (N - 1),
     last[i], last[i+1], ... (mod N),  cur[i], cur[i+1], ... (mod N),  mech[i, 0..M-1]
   where cur[j] = current[j] / e_j (0 where there is no current round). Inlined with N and
   M constant for the common group sizes, so the loops unroll. */
static inline __attribute__((always_inline)) void world_rows(
    int64_t N, int64_t M, const float *head, const float *last, float total,
    const float *payoff, float unit, float others, const float *current,
    const float *endow, float e, const float *mech, float *o)
{
    float ll[128], cc[128];
    for (int64_t j = 0; j < N; j++) {
        ll[j] = last[j];
        ll[j + N] = last[j];
        float c = 0.0f;
        if (current) c = current[j] / (endow ? endow[j] : e);
        cc[j] = c;
        cc[j + N] = c;
    }
    const int64_t O = 6 + 2 * N + M;
    for (int64_t i = 0; i < N; i++, o += O) {
        o[0] = head[0];
        o[1] = head[1];
        o[2] = head[2];
        o[3] = last[i];
        o[4] = payoff[i] / unit;
        o[5] = (total - last[i]) / others;
        for (int64_t k = 0; k < N; k++) o[6 + k] = ll[i + k];
        for (int64_t k = 0; k < N; k++) o[6 + N + k] = cc[i + k];
        for (int64_t m = 0; m < M; m++) o[6 + 2 * N + m] = mech[i * M + m];
    }
}

#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define HAVE_SHUFFLE 1
#endif
#endif

#ifdef HAVE_SHUFFLE
/* Four agents without mechanisms, the common case, in 4-float vectors: a world's 56 floats
   in 16 stores instead of 56 (scalar stores were the pass's bottleneck, not memory). The
   same float32 operations as above, lane by lane: a vector division rounds as a scalar one. */
typedef float v4 __attribute__((vector_size(16)));
typedef float v2 __attribute__((vector_size(8)));
typedef float v4u __attribute__((vector_size(16), aligned(4)));
typedef float v2u __attribute__((vector_size(8), aligned(4)));

#define AGENT4(I)                                                                        \
    do {                                                                                 \
        float *r = o + (I) * 14;                                                         \
        *(v4u *)r = __builtin_shufflevector(H, L, 0, 1, 2, 4 + (I));                     \
        v4 pt = __builtin_shufflevector(P, T, (I), 4 + (I), 0, 0);                       \
        *(v4u *)(r + 4) = __builtin_shufflevector(pt, L, 0, 1, 4 + (I), 4 + ((I) + 1) % 4); \
        *(v4u *)(r + 8) = __builtin_shufflevector(L, C, ((I) + 2) % 4, ((I) + 3) % 4,      \
                                                  4 + (I), 4 + ((I) + 1) % 4);           \
        *(v2u *)(r + 12) = __builtin_shufflevector(C, C, ((I) + 2) % 4, ((I) + 3) % 4);   \
    } while (0)

static void rows4(int64_t B, int64_t ld, const float *head, const float *last,
                  const float *total, const float *payoff, float unit, float others,
                  const float *current, const float *endow, float e, float *restrict out)
{
    const v4 H = {head[0], head[1], head[2], 0.0f};
    const v4 U = {unit, unit, unit, unit}, D = {others, others, others, others};
    const v4 E = endow ? (v4){endow[0], endow[1], endow[2], endow[3]} : (v4){e, e, e, e};
    for (int64_t b = 0; b < B; b++) {
        v4 L, P, C = {0.0f, 0.0f, 0.0f, 0.0f};
        memcpy(&L, last + b * ld, 16);
        memcpy(&P, payoff + b * 4, 16);
        P = P / U;
        const float t = total[b];
        const v4 T = ((v4){t, t, t, t} - L) / D;
        if (current) {
            memcpy(&C, current + b * 4, 16);
            C = C / E;
        }
        float *o = out + b * 56;
        AGENT4(0);
        AGENT4(1);
        AGENT4(2);
        AGENT4(3);
    }
}
#endif

#define ROWS(NN, MM)                                                                  \
    for (int64_t b = 0; b < B; b++)                                                   \
        world_rows(NN, MM, head, last + b * ld, total[b], payoff + b * NN, unit,      \
                   others, current ? current + b * NN : 0, endow, e,                  \
                   mech ? mech + b * NN * MM : 0, out + b * NN * (6 + 2 * NN + MM));

/* A round's payoffs without mechanisms: gross[b, j] = (e_j - c[b, j]) + total[b] * share,
   net a copy (torch: sub, then add_ of total.mul_(share)); c [B, N] contiguous. */
void public_goods_payoffs(int64_t B, int64_t N, const float *c, const float *endow, float e,
                          const float *total, float share, float *gross, float *net)
{
    for (int64_t b = 0; b < B; b++) {
        const float t = total[b] * share;
        for (int64_t j = 0; j < N; j++) {
            const float g = ((endow ? endow[j] : e) - c[b * N + j]) + t;
            gross[b * N + j] = g;
            net[b * N + j] = g;
        }
    }
}

/* Shares of the endowment: dst[b * ld + j] = contribution[b, j] / e_j, contribution [B, N]
   contiguous, endow [N] or NULL (every seat has e). */
void public_goods_shares(int64_t B, int64_t N, int64_t ld, const float *contribution,
                         const float *endow, float e, float *dst)
{
    if (endow)
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = 0; j < N; j++) dst[b * ld + j] = contribution[b * N + j] / endow[j];
    else
        for (int64_t b = 0; b < B; b++)
            for (int64_t j = 0; j < N; j++) dst[b * ld + j] = contribution[b * N + j] / e;
}

/* out [B, N, 6 + 2N + M] float32; last [B, N] with rows ld apart; payoff, current [B, N]
   (current may be NULL: no contributions this round); total [B]; endow [N] or NULL (every
   seat has e); mech [B, N, M] or NULL when M = 0. */
void public_goods_observe(
    int64_t B, int64_t N, int64_t M, int64_t ld, const float *head, const float *last,
    const float *total, const float *payoff, float unit, float others,
    const float *current, const float *endow, float e, const float *mech, float *out)
{
#ifdef HAVE_SHUFFLE
    if (N == 4 && M == 0) {
        rows4(B, ld, head, last, total, payoff, unit, others, current, endow, e, out);
        return;
    }
#endif
    if (N == 4 && M == 0) { ROWS(4, 0) }
    else if (N == 2 && M == 0) { ROWS(2, 0) }
    else if (N == 3 && M == 0) { ROWS(3, 0) }
    else { ROWS(N, M) }
}
"""

MAX_AGENTS = 64  # the kernel's scratch holds two copies of 64 agents' values


KERNELS = native_build.NativeLibrary("public_goods", SOURCE, "public-goods kernel")

# The module's names for its kernel's state, which callers and tests use (NativeLibrary's).
library = KERNELS.library
note = KERNELS.note
compile_seconds = KERNELS.compile_seconds
set_enabled = KERNELS.set_enabled
enabled = KERNELS.enabled


def _cpu_f32(x: Tensor) -> bool:
    return x.device.type == "cpu" and x.dtype == torch.float32 and x.is_contiguous()


def _rows(x: Tensor) -> bool:
    """float32 on the CPU with adjacent columns (rows may be any distance apart)."""
    return x.device.type == "cpu" and x.dtype == torch.float32 and x.stride(-1) == 1


def usable(*tensors: Tensor | None) -> bool:
    """Whether the kernel can read these tensors as they are (CPU, float32, contiguous) and is
    built and on; otherwise the caller takes the torch path."""
    return enabled() and all(t is None or _cpu_f32(t) for t in tensors)


def payoffs(
    contribution: Tensor,
    endow: Tensor | None,
    e: float,
    total: Tensor,
    share: float,
    gross: Tensor,
    net: Tensor,
) -> None:
    """A round's payoffs where no mechanism moves money: ``gross`` [B, N] = (e_i - c_i) +
    ``total`` [B] x ``share`` (r / N), and ``net`` its copy, as the torch path's ``sub`` and
    ``add_`` compute them, in one pass."""
    b, n = contribution.shape
    shapes = {t.shape for t in (contribution, gross, net)}
    if shapes != {(b, n)} or total.numel() != b or (endow is not None and endow.shape != (n,)):
        raise ValueError("payoffs needs contribution, gross, net [B, N], total [B], endow [N]")
    if not usable(contribution, endow, total, gross, net):
        raise ValueError("the kernel needs contiguous float32 CPU tensors, and to be built")
    KERNELS.require().public_goods_payoffs(
        *args(b, n, contribution, endow, e, total, share, gross, net)
    )


def shares(contribution: Tensor, endow: Tensor | None, e: float, out: Tensor) -> Tensor:
    """``out`` [B, N] (rows any distance apart, unit column stride) = ``contribution`` [B, N]
    / ``endow`` [N] (or / ``e`` where None): ``torch.div(contribution, e, out=out)`` without
    torch's pass per row of a strided output."""
    b, n = contribution.shape
    if out.shape != (b, n) or out.stride(1) != 1 or (endow is not None and endow.shape != (n,)):
        raise ValueError("shares needs contribution and out [B, N] and endow [N]")
    if not usable(contribution, endow) or not _rows(out):
        raise ValueError("the kernel needs float32 CPU tensors, and to be built")
    KERNELS.require().public_goods_shares(*args(b, n, out.stride(0), contribution, endow, e, out))
    return out


def observe(
    out: Tensor,
    head: Tensor,
    last: Tensor,
    total: Tensor,
    payoff: Tensor,
    unit: float,
    current: Tensor | None,
    endow: Tensor | None,
    e: float,
    mech: Tensor | None,
) -> None:
    """Fill ``out`` [B, N, 6 + 2N + M] with the public-goods observation.

    ``head`` [3] the round's progress, stage and first-round flag; ``last`` [B, N] last
    contributions as shares of the endowment (rows any distance apart, unit column stride)
    and ``total`` [B] (or [B, 1]) their sum;
    ``payoff`` [B, N] last net payoffs, observed per ``unit``; ``current`` [B, N] this round's
    contributions in currency (None: none yet), shared out per ``endow`` [N] or ``e``;
    ``mech`` [B, N, M] the mechanisms' numbers (None where M = 0). All float32, contiguous, on
    the CPU (see :func:`usable`).
    """
    b, n, o = out.shape
    m = 0 if mech is None else mech.shape[-1]
    if n > MAX_AGENTS or o != 6 + 2 * n + m:
        raise ValueError(f"observation [.., {n}, {o}] does not fit N = {n}, M = {m}")
    if last.shape != (b, n) or payoff.shape != (b, n) or total.numel() != b:
        raise ValueError("last and payoff must be [B, N] and total [B]")
    if last.stride(1) != 1 or not out.is_contiguous():
        raise ValueError("out must be contiguous and last's columns adjacent")
    if not _rows(last) or not usable(out, head, total, payoff, current, endow, mech):
        raise ValueError("the kernel needs contiguous float32 CPU tensors, and to be built")
    KERNELS.require().public_goods_observe(
        *args(
            b, n, m, last.stride(0), head, last, total, payoff, unit, float(n - 1),
            current, endow, e, mech, out,
        )
    )  # fmt: skip
