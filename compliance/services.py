"""The vocabulary of radio services used by licences, plans and tolerances.

===================== ============================================================
service               meaning
===================== ============================================================
fm_broadcast          phát thanh FM / FM sound broadcasting (87-108 MHz)
tv_broadcast          truyền hình / television broadcasting (DVB-T2, 470-694 MHz)
commune_loudspeaker   đài truyền thanh không dây cấp xã / commune wireless
                      loudspeaker radio (54-68 MHz)
land_mobile           di động mặt đất / land mobile (PMR, trunked, DMR)
fixed                 cố định / fixed links
aeronautical          hàng không / aeronautical
amateur               nghiệp dư / amateur
other                 khác / anything else
===================== ============================================================

Import files may also use the Vietnamese names in :data:`SERVICE_ALIASES`.
"""

from __future__ import annotations

import unicodedata

__all__ = ["SERVICES", "SERVICE_ALIASES", "normalise_service"]

SERVICES = (
    "fm_broadcast",
    "tv_broadcast",
    "commune_loudspeaker",
    "land_mobile",
    "fixed",
    "aeronautical",
    "amateur",
    "other",
)

#: Accepted aliases (compared without accents, case or spaces/underscores).
SERVICE_ALIASES = {
    "phat thanh fm": "fm_broadcast",
    "phat thanh": "fm_broadcast",
    "fm": "fm_broadcast",
    "truyen hinh": "tv_broadcast",
    "tv": "tv_broadcast",
    "dvb-t2": "tv_broadcast",
    "truyen thanh co so": "commune_loudspeaker",
    "truyen thanh khong day": "commune_loudspeaker",
    "dai truyen thanh xa": "commune_loudspeaker",
    "ttkd": "commune_loudspeaker",
    "di dong mat dat": "land_mobile",
    "co dinh": "fixed",
    "hang khong": "aeronautical",
    "nghiep du": "amateur",
    "khac": "other",
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.strip().lower().replace("đ", "d"))
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(plain.replace("_", " ").split())


def normalise_service(text: str) -> str | None:
    """The canonical service name of ``text``, or ``None`` if it is not known.

    Examples
    --------
    >>> normalise_service("FM_Broadcast"), normalise_service("Truyền thanh cơ sở")
    ('fm_broadcast', 'commune_loudspeaker')
    >>> normalise_service("radar") is None
    True
    """
    folded = _fold(text)
    for service in SERVICES:
        if folded == service.replace("_", " "):
            return service
    return SERVICE_ALIASES.get(folded)
