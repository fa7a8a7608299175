"""The label of a return sent by carrier: from the customer to the warehouse that will receive
and inspect it (`domain/returns.py::carrier_return_destination`), the return's id as Code 128."""

from __future__ import annotations

from openoms import documents
from openoms.db.repositories import parcels as parcels_repo
from openoms.db.uow import Database
from openoms.domain.network import GeoPoint
from openoms.domain.returns import ReturnMethod, carrier_return_destination
from openoms.errors import Conflict
from openoms.services.parcels import customer_address, location_address
from openoms.services.returns import Scope, get_return
from openoms.services.sourcing_view import SourcingView


class NoReturnLabel(Conflict):
    code = "no_return_label"
    title = "This return has no label"


def return_label_pdf(
    db: Database,
    view: SourcingView,
    return_id: str,
    *,
    scope: Scope,
    language: documents.Language = "fr",
) -> bytes:
    """409 for a return brought to a store (it needs no label) or a network with no warehouse."""
    found = get_return(db, return_id, scope=scope)
    if found.method is not ReturnMethod.CARRIER:
        raise NoReturnLabel(f"return {return_id} is brought to a store: it needs no label")
    view.refresh()
    with db.read() as conn:
        order = parcels_repo.order_of(conn, found.order_id)
    near = (
        GeoPoint(order.latitude, order.longitude)
        if order.latitude is not None and order.longitude is not None
        else None
    )
    destination = carrier_return_destination(view.locations, near)
    if destination is None:
        raise NoReturnLabel("no active warehouse can receive a return sent by carrier")
    label = documents.ReturnLabel(
        return_id=found.id,
        order_id=found.order_id,
        customer=customer_address(view, order),
        location=location_address(destination),
        language=language,
    )
    return documents.return_label_pdf(label)
