"""The policy levers: each mechanism is a small module with one interface (:mod:`mechanisms.base`)."""

from mechanisms.base import Flow, Mechanism, MoneyBounds, Pipeline, RoundContext
from mechanisms.quotas import ExtractionTax, Quota
from mechanisms.redistribution import LumpSum, Redistribution
from mechanisms.sanctions import PeerPunishment, SanctionInstitution
from mechanisms.subsidies import MatchingFunds, ProvisionPoint
from mechanisms.tax import BracketTax

MECHANISMS: dict[str, type[Mechanism]] = {
    cls.kind: cls
    for cls in (
        PeerPunishment,
        SanctionInstitution,
        MatchingFunds,
        ProvisionPoint,
        LumpSum,
        Redistribution,
        BracketTax,
        Quota,
        ExtractionTax,
    )
}

__all__ = ["MECHANISMS", "Flow", "Mechanism", "MoneyBounds", "Pipeline", "RoundContext"]
