"""What a public scan answers: the verdict on a code, the links a resolver offers, and the
anonymous description of who scanned it.

Pure rules only. The verdict is decided from a unit's facts (its disposition, an active
recall, the batch's expiry, open clone alerts) in one fixed order of precedence: a safety
notice first (recalled), then what says "do not trust this" (destroyed, suspicious), then
what says "do not use this" (expired), then the happy answers.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    AUTHENTIC = "authentic"
    AUTHENTIC_ALREADY_SOLD = "authentic_already_sold"
    SUSPICIOUS = "suspicious"
    RECALLED = "recalled"
    EXPIRED = "expired"
    DESTROYED = "destroyed"
    UNKNOWN = "unknown"


class AlertReason(StrEnum):
    """Why a code looks cloned or misused (one open alert per unit and reason)."""

    MANY_ORIGINS = "many_origins"  # scanned after sale from many distinct origins
    FOREIGN_MARKET = "foreign_market"  # scanned in a market it was never shipped to
    DESTROYED_CODE = "destroyed_code"  # the unit was destroyed, yet its code is scanned
    DECOMMISSIONED_CODE = "decommissioned_code"
    STOLEN_CODE = "stolen_code"
    LOST_CODE = "lost_code"


ALERT_DESCRIPTIONS = {
    AlertReason.MANY_ORIGINS: "scanned after sale from more distinct places than one buyer would",
    AlertReason.FOREIGN_MARKET: "scanned in a market the unit was never shipped to",
    AlertReason.DESTROYED_CODE: "the unit was destroyed, yet its code is being scanned",
    AlertReason.DECOMMISSIONED_CODE: "the code was decommissioned, yet it is being scanned",
    AlertReason.STOLEN_CODE: "the unit was reported stolen, and its code is being scanned",
    AlertReason.LOST_CODE: "the unit was marked lost, and its code is being scanned",
}

# A scan of a unit in one of these dispositions raises an alert of its own.
ALERT_FOR_DISPOSITION = {
    "destroyed": AlertReason.DESTROYED_CODE,
    "inactive": AlertReason.DECOMMISSIONED_CODE,
    "stolen": AlertReason.STOLEN_CODE,
    "unknown": AlertReason.LOST_CODE,  # marked lost: it left the holder's hands somehow
}


class LinkType(StrEnum):
    """GS1 Digital Link link types this resolver answers (gs1:pip is the default)."""

    PIP = "gs1:pip"
    CERTIFICATION_INFO = "gs1:certificationInfo"
    RECALL_STATUS = "gs1:recallStatus"
    EPCIS = "gs1:epcis"
    REGISTER_PRODUCT = "gs1:registerProduct"

    @property
    def uri(self) -> str:
        return "https://gs1.org/voc/" + self.value.removeprefix("gs1:")


LINKSET = "all"  # linkType=all: the whole linkset (RFC 9264)


def parse_link_type(text: str | None) -> LinkType | None:
    """The link type asked for, or None for the default (absent or unknown types: GS1
    resolvers answer an unavailable link type with the default link)."""
    if not text:
        return None
    wanted = text.strip()
    for prefix in ("https://gs1.org/voc/", "http://gs1.org/voc/"):
        if wanted.startswith(prefix):
            wanted = "gs1:" + wanted[len(prefix) :]
    for link in LinkType:
        if link.value.lower() == wanted.lower():
            return link
    return None


@dataclass(frozen=True)
class UnitFacts:
    """What the verdict depends on."""

    disposition: str
    expires_on: dt.date | None
    under_recall: bool  # an active recall covers the unit
    alert_reason: str | None  # an open clone alert, if any


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str  # a stable code: the disposition or alert behind the verdict


def decide(facts: UnitFacts, today: dt.date) -> Decision:
    """The verdict on a known, public unit."""
    disposition = facts.disposition
    if facts.under_recall or disposition == "recalled":
        return Decision(Verdict.RECALLED, "recalled")
    if disposition == "destroyed":
        return Decision(Verdict.DESTROYED, "destroyed")
    if disposition in ALERT_FOR_DISPOSITION:
        return Decision(Verdict.SUSPICIOUS, ALERT_FOR_DISPOSITION[disposition].value)
    if facts.alert_reason:
        return Decision(Verdict.SUSPICIOUS, facts.alert_reason)
    if disposition == "expired" or (facts.expires_on is not None and facts.expires_on < today):
        return Decision(Verdict.EXPIRED, "expired")
    if disposition == "retail_sold":
        return Decision(Verdict.AUTHENTIC_ALREADY_SOLD, "retail_sold")
    return Decision(Verdict.AUTHENTIC, disposition)


HEADLINES = {
    Verdict.AUTHENTIC: "Genuine product",
    Verdict.AUTHENTIC_ALREADY_SOLD: "Genuine product, sold",
    Verdict.SUSPICIOUS: "Warning: this code may be copied",
    Verdict.RECALLED: "Recalled: do not use",
    Verdict.EXPIRED: "Expired: do not use",
    Verdict.DESTROYED: "Warning: this unit was destroyed",
    Verdict.UNKNOWN: "Code not recognised",
}

EXPLANATIONS = {
    Verdict.AUTHENTIC: "This code was issued by the brand for this very unit, and the unit "
    "is in the licensed supply chain.",
    Verdict.AUTHENTIC_ALREADY_SOLD: "This code was issued by the brand for this unit, and a "
    "licensed store sold it. If you just bought it there, all is well.",
    Verdict.SUSPICIOUS: "This code belongs to a genuine unit, but the way it is being scanned "
    "suggests it has been copied onto other packages. Do not consume the product if you have "
    "doubts; report it to the brand below.",
    Verdict.RECALLED: "The brand has recalled this unit. Do not use it; follow the "
    "instructions below.",
    Verdict.EXPIRED: "This unit is past its expiry date. Do not use it.",
    Verdict.DESTROYED: "The unit this code was issued for was destroyed. A package carrying "
    "this code is very likely counterfeit: do not consume it.",
    Verdict.UNKNOWN: "No unit with this code can be verified. Check that you scanned the "
    "label's QR code; if the code is printed on a product, it may not be genuine.",
}


def linkset(anchor: str, links: Mapping[LinkType, Mapping[str, str]]) -> dict[str, object]:
    """The RFC 9264 linkset (``application/linkset+json``) of one identifier.

    ``links`` maps each available link type to its target: ``href``, ``title``, ``type``.
    The first link (gs1:pip when present) is also the default link.
    """
    entry: dict[str, object] = {"anchor": anchor}
    default = None
    for link, target in links.items():
        item: dict[str, object] = {
            "href": target["href"],
            "title": target["title"],
            "type": target["type"],
            "hreflang": ["en"],
        }
        entry[link.uri] = [item]
        default = default or item
    if default is not None:
        entry["https://gs1.org/voc/defaultLink"] = [default]
    return {"linkset": [entry]}


# --- Who scanned: anonymous, coarse, and useful for clone detection only.

_AGENTS = (
    (re.compile(r"bot|crawl|spider|curl|wget|python|go-http|java/|okhttp|wrk|httpx", re.I), "tool"),
    (re.compile(r"CriOS", re.I), "Chrome iOS"),
    (re.compile(r"FxiOS", re.I), "Firefox iOS"),
    (re.compile(r"iPhone|iPad|iPod", re.I), "Safari iOS"),
    (re.compile(r"SamsungBrowser", re.I), "Samsung Internet"),
    (re.compile(r"Android.*Firefox", re.I), "Firefox Android"),
    (re.compile(r"Android", re.I), "Chrome Android"),
    (re.compile(r"Edg/", re.I), "Edge"),
    (re.compile(r"Firefox/", re.I), "Firefox"),
    (re.compile(r"Chrome/|Chromium/", re.I), "Chrome"),
    (re.compile(r"Safari/", re.I), "Safari"),
)


@functools.lru_cache(maxsize=4096)
def agent_family(user_agent: str) -> str:
    """A browser family (``Safari iOS``, ``Chrome Android``, ``tool``…), never the full string."""
    if not user_agent:
        return ""
    for pattern, family in _AGENTS:
        if pattern.search(user_agent):
            return family
    return "other"


def truncate_address(address: str) -> str:
    """The network a client address belongs to: IPv4 /24, IPv6 /48 (not the host itself)."""
    parts = address.strip().split(".")
    if len(parts) == 4 and all(p.isdigit() and len(p) <= 3 and int(p) < 256 for p in parts):
        return f"{int(parts[0])}.{int(parts[1])}.{int(parts[2])}.0/24"  # the common case, fast
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return "unparsable"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def origin_token(key: bytes, address: str) -> str:
    """An anonymous origin: a keyed hash of the truncated address, 16 hex characters.

    Without the installation's key (kept in its database) the token cannot be turned back
    into a network, nor matched with another installation's tokens.
    """
    network = truncate_address(address).encode()
    return hmac.new(key, network, hashlib.sha256).hexdigest()[:16]


def market_of_region(region: str) -> str:
    """A region as a market code: ``US-CA`` and ``ca`` are both market ``CA``."""
    cleaned = region.strip().upper()
    return cleaned.rsplit("-", 1)[-1] if "-" in cleaned else cleaned
