"""Every word the store app shows, in English and French: one catalogue, one lookup.

The language is the `oms_lang` cookie when the associate chose one, else the best of the
browser's `Accept-Language`, else English. A key missing from the catalogue is a bug, so
`translate` raises rather than showing the key (a unit test renders every template).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

LANGUAGES = ("en", "fr")
DEFAULT = "en"
LANGUAGE_NAMES = MappingProxyType({"en": "English", "fr": "Français"})

_CATALOGUE: dict[str, tuple[str, str]] = {
    # the frame
    "app.title": ("Store app", "Application magasin"),
    "nav.label": ("Main", "Principal"),
    "nav.queue": ("Queue", "File d'attente"),
    "nav.pickups": ("Carrier pickups", "Ramasses"),
    "nav.collect": ("Click & collect", "Retraits"),
    "nav.reservations": ("Reservations", "Réservations"),
    "nav.returns": ("Returns", "Retours"),
    "nav.manager": ("Today's figures", "Chiffres du jour"),
    "nav.language": ("Language", "Langue"),
    "nav.sign_out": ("Sign out", "Se déconnecter"),
    "nav.signed_in_as": ("{name}, {location}", "{name}, {location}"),
    "skip.to_content": ("Skip to content", "Aller au contenu"),
    # sign-in
    "sign_in.title": ("Sign in", "Connexion"),
    "sign_in.username": ("Username", "Identifiant"),
    "sign_in.password": ("Password", "Mot de passe"),
    "sign_in.submit": ("Sign in", "Se connecter"),
    "sign_in.wrong": ("Wrong username or password.", "Identifiant ou mot de passe incorrect."),
    "sign_in.locked": (
        "Too many wrong passwords: this account is locked for {minutes} minutes, until {until}.",
        "Trop de mots de passe incorrects : ce compte est bloqué pendant {minutes} minutes,"
        " jusqu'à {until}.",
    ),
    "sign_in.hint": (
        "After {attempts} wrong passwords the account is locked for {minutes} minutes.",
        "Après {attempts} mots de passe incorrects, le compte est bloqué {minutes} minutes.",
    ),
    "sign_in.signed_out": ("You are signed out.", "Vous êtes déconnecté."),
    "sign_in.expired": (
        "Please sign in (your session ended).",
        "Veuillez vous connecter (votre session a pris fin).",
    ),
    # the queue
    "queue.title": ("Queue", "File d'attente"),
    "queue.offers": ("Offers waiting for a claim", "Offres en attente de prise en charge"),
    "queue.no_offers": ("No offer is waiting.", "Aucune offre en attente."),
    "queue.work": ("Claimed work", "Commandes prises en charge"),
    "queue.no_work": ("Nothing to prepare.", "Rien à préparer."),
    "queue.time_left": ("Moves on in", "Part ailleurs dans"),
    "queue.expired": ("moving on", "part ailleurs"),
    "queue.claim": ("Claim", "Prendre"),
    "queue.reject": ("Reject", "Refuser"),
    "queue.open": ("Open", "Ouvrir"),
    "queue.refreshes": (
        "New offers appear here on their own.",
        "Les nouvelles offres apparaissent ici d'elles-mêmes.",
    ),
    "order.label": ("Order {id}", "Commande {id}"),
    "order.method": ("Delivery", "Livraison"),
    "order.promised": ("Promised", "Promis"),
    "order.promised_ready": ("ready by {time}", "prête à {time}"),
    "order.promised_days": ("delivered {earliest} – {latest}", "livrée du {earliest} au {latest}"),
    "order.promised_day": ("delivered on {day}", "livrée le {day}"),
    "order.promised_none": ("no promise recorded", "pas de promesse enregistrée"),
    "order.customer": ("Customer", "Client"),
    "order.lines": ("Lines", "Articles"),
    "order.units": ("{units} ×", "{units} ×"),
    "order.status": ("Status", "Statut"),
    "method.home_standard": ("Home, standard", "Domicile, standard"),
    "method.home_express": ("Home, express", "Domicile, express"),
    "method.click_collect": ("Click & collect", "Retrait en magasin"),
    "method.express_collect": ("Express collect", "Retrait express"),
    "status.offered": ("offered", "proposée"),
    "status.claimed": ("claimed: to pick", "prise : à préparer"),
    "status.picking": ("picked: to pack", "préparée : à emballer"),
    "status.packed": ("packed: waiting for the carrier", "emballée : attend le transporteur"),
    "status.shipped": ("shipped", "expédiée"),
    "status.delivered": ("delivered", "livrée"),
    "status.in_transfer": ("in transfer", "en transfert"),
    "status.ready_for_pickup": ("ready for pickup", "prête au retrait"),
    "status.collected": ("collected", "retirée"),
    "status.rejected": ("rejected", "refusée"),
    "status.withdrawn": ("withdrawn", "retirée par l'OMS"),
    "status.cancelled": ("cancelled", "annulée"),
    # claim and reject
    "claim.done": ("Claimed: pick it now.", "Prise en charge : à préparer maintenant."),
    "reject.title": ("Reject the order", "Refuser la commande"),
    "reject.reason": ("Reason", "Motif"),
    "reject.out_of_stock": ("Out of stock", "Rupture de stock"),
    "reject.damaged": ("Damaged", "Article abîmé"),
    "reject.no_capacity": ("No capacity today", "Pas de capacité aujourd'hui"),
    "reject.found": ("Units found on the shelf", "Unités trouvées en rayon"),
    "reject.found_hint": (
        "Out of stock only: count what is really there.",
        "Rupture seulement : comptez ce qui est vraiment en rayon.",
    ),
    "reject.submit": ("Reject", "Refuser"),
    "reject.cancel": ("Back", "Retour"),
    "reject.done": (
        "Rejected: the OMS is sourcing the order elsewhere.",
        "Refusée : l'OMS cherche un autre lieu pour la commande.",
    ),
    # picking
    "pick.title": ("Picking", "Préparation"),
    "pick.scan": ("Scan a barcode", "Scanner un code-barres"),
    "pick.scan_hint": (
        "Scan each item, or tap + for it.",
        "Scannez chaque article, ou touchez + pour lui.",
    ),
    "pick.scan_add": ("Add", "Ajouter"),
    "pick.item": ("Item", "Article"),
    "pick.category": ("Aisle", "Rayon"),
    "pick.asked": ("Asked", "Demandé"),
    "pick.picked": ("Picked", "Pris"),
    "pick.picked_of": ("Picked of {name}", "Pris de {name}"),
    "pick.add_one": ("+1 {name}", "+1 {name}"),
    "pick.all": ("All of {name}", "Tout {name}"),
    "pick.missing": ("The rest is missing", "Le reste manque"),
    "pick.missing_of": (
        "The rest of {name} is missing",
        "Le reste de {name} manque",
    ),
    "pick.submit": ("Confirm the pick", "Valider la préparation"),
    "pick.scanned": ("Scanned: {name}", "Scanné : {name}"),
    "pick.unknown_barcode": (
        "Barcode {code} is not on this pick list.",
        "Le code-barres {code} n'est pas sur cette liste.",
    ),
    "pick.too_many": (
        "{name}: more than the {units} asked.",
        "{name} : plus que les {units} demandés.",
    ),
    "pick.short_not_declared": (
        "{name}: {picked} of {units} picked. Scan the rest or tick “The rest is missing”.",
        "{name} : {picked} sur {units}. Scannez le reste ou cochez « Le reste manque ».",
    ),
    "pick.nothing_picked": (
        "Nothing was picked: reject the order as out of stock instead.",
        "Rien n'a été pris : refusez plutôt la commande pour rupture de stock.",
    ),
    "pick.done": ("Picked: pack it now.", "Préparée : à emballer maintenant."),
    "pick.rerouted": (
        "Missing {units} × {name}: the OMS re-routed it to another location.",
        "Manque {units} × {name} : l'OMS l'a réorienté vers un autre lieu.",
    ),
    # packing
    "pack.title": ("Packing", "Emballage"),
    "pack.box": ("Box", "Carton"),
    "pack.custom": ("Other size: weight and size", "Autre taille : poids et dimensions"),
    "pack.weight": ("Weight (g)", "Poids (g)"),
    "pack.length": ("Length (mm)", "Longueur (mm)"),
    "pack.width": ("Width (mm)", "Largeur (mm)"),
    "pack.height": ("Height (mm)", "Hauteur (mm)"),
    "pack.submit": ("Pack and make the label", "Emballer et créer l'étiquette"),
    "pack.done": ("Packed: print the label.", "Emballée : imprimez l'étiquette."),
    "pack.label": ("Shipping label (PDF)", "Étiquette d'expédition (PDF)"),
    "pack.slip": ("Packing slip (PDF)", "Bon de livraison (PDF)"),
    "pack.parcel": ("Parcel {number}, {service}", "Colis {number}, {service}"),
    "pack.too_heavy": (
        "Too heavy for the carriers of this delivery: use lighter parcels.",
        "Trop lourd pour les transporteurs de cette livraison : faites des colis plus légers.",
    ),
    "pack.no_carrier": (
        "No carrier collects this parcel here for this delivery: call the head office.",
        "Aucun transporteur ne prend ce colis ici pour cette livraison : appelez le siège.",
    ),
    "pack.documents": ("Label and packing slip", "Étiquette et bon de livraison"),
    "pack.to_pickups": ("To the carrier pickups", "Vers les ramasses"),
    "pack.measures": ("Weight and size", "Poids et dimensions"),
    "pack.measures_hint": (
        "Weight: leave empty to count the items and the box. Sizes: for another box only.",
        "Poids : laissez vide pour compter les articles et le carton. Dimensions : pour un"
        " autre carton seulement.",
    ),
    # carrier pickups
    "pickups.title": ("Carrier pickups", "Ramasses"),
    "pickups.waiting": ("Parcels waiting", "Colis en attente"),
    "pickups.none": ("No parcel is waiting.", "Aucun colis en attente."),
    "pickups.book": ("Book the pickup", "Réserver la ramasse"),
    "pickups.booked": ("Booked pickups", "Ramasses réservées"),
    "pickups.no_booked": ("No pickup is booked.", "Aucune ramasse réservée."),
    "pickups.manifest": ("Manifest (PDF)", "Bordereau (PDF)"),
    "pickups.hand_over": ("Hand the parcels over", "Remettre les colis"),
    "pickups.done_booked": ("Pickup booked.", "Ramasse réservée."),
    "pickups.done_handed": (
        "Handed over: the orders are shipped.",
        "Remis : les commandes sont expédiées.",
    ),
    "pickups.carrier": ("Carrier", "Transporteur"),
    "pickups.parcels": ("parcels: {count}", "colis : {count}"),
    "pickups.collect_at": ("Collection at {time}", "Passage à {time}"),
    "pickups.booked_by_auto": ("booked by the OMS", "réservée par l'OMS"),
    "pickups.booked_by_hand": ("booked here", "réservée ici"),
    "pickups.in_pickup": ("in a booked pickup", "dans une ramasse réservée"),
    "pickups.tracking": ("Tracking number", "Numéro de suivi"),
    "pickups.weight": ("Weight", "Poids"),
    "pickups.order": ("Order", "Commande"),
    "pickups.nothing_waits": (
        "No parcel of {carrier} waits to be booked.",
        "Aucun colis de {carrier} n'attend de réservation.",
    ),
    # click & collect
    "collect.title": ("Click & collect", "Retraits en magasin"),
    "collect.ready": ("Waiting for collection", "En attente de retrait"),
    "collect.none_ready": ("No order waits for collection.", "Aucune commande n'attend."),
    "collect.waited": ("Waiting for", "Attend depuis"),
    "collect.waited_for": ("{hours} h {minutes}", "{hours} h {minutes}"),
    "collect.holding_until": ("Kept until", "Gardée jusqu'au"),
    "collect.late": ("late", "en retard"),
    "collect.incoming": ("Transfers to receive", "Transferts à réceptionner"),
    "collect.none_incoming": ("No transfer is on its way.", "Aucun transfert en route."),
    "collect.tracking": ("Parcel tracking number", "Numéro de suivi du colis"),
    "collect.tracking_hint": (
        "Scan the parcel's label, or type its number.",
        "Scannez l'étiquette du colis, ou tapez son numéro.",
    ),
    "collect.receive": ("Receive", "Réceptionner"),
    "collect.from": ("From", "Depuis"),
    "collect.expected": ("Expected by", "Attendu le"),
    "collect.overdue": ("overdue", "en retard"),
    "collect.preparing": ("Being prepared", "En préparation"),
    "collect.none_preparing": ("No order is being prepared.", "Aucune commande en préparation."),
    "collect.ready_by": ("Express: ready by {time}", "Express : prête à {time}"),
    "collect.received": (
        "Received: order {order} is on the collect shelf.",
        "Réceptionné : la commande {order} est sur l'étagère des retraits.",
    ),
    "collect.unknown_parcel": (
        "No parcel {tracking} is on its way here: check the number.",
        "Aucun colis {tracking} n'est attendu ici : vérifiez le numéro.",
    ),
    "collect.other_store_parcel": (
        "Parcel {tracking} is for another store: nothing was received.",
        "Le colis {tracking} est pour un autre magasin : rien n'a été réceptionné.",
    ),
    "collect.handover": ("Hand an order over", "Remettre une commande"),
    "collect.order_number": ("Order number", "Numéro de commande"),
    "collect.code": ("Pickup code", "Code de retrait"),
    "collect.code_hint": (
        "Or, without the code, the customer's name as on their ID.",
        "Ou, sans le code, le nom du client tel que sur sa pièce d'identité.",
    ),
    "collect.customer_name": ("Customer's name", "Nom du client"),
    "collect.submit": ("Hand over", "Remettre"),
    "collect.code_or_name": (
        "Pickup code: required (or the customer's name).",
        "Code de retrait : obligatoire (ou le nom du client).",
    ),
    "collect.wrong_code": (
        "Wrong pickup code: nothing was handed over. {left} tries left.",
        "Code de retrait incorrect : rien n'a été remis. Encore {left} essais.",
    ),
    "collect.wrong_name": (
        "The name does not match: nothing was handed over. {left} tries left.",
        "Le nom ne correspond pas : rien n'a été remis. Encore {left} essais.",
    ),
    "collect.locked": (
        "Too many wrong tries: this code is locked. The customer asks for a new code.",
        "Trop d'essais incorrects : ce code est bloqué. Le client demande un nouveau code.",
    ),
    "collect.not_ready": (
        "Order {order} is not waiting for collection (not ready, or already handed over).",
        "La commande {order} n'attend pas de retrait (pas prête, ou déjà remise).",
    ),
    "collect.unknown_order": (
        "No order {order} is collected at this store.",
        "Aucune commande {order} n'est à retirer dans ce magasin.",
    ),
    "collect.handed_over": (
        "Order {order} handed over by {name}.",
        "Commande {order} remise par {name}.",
    ),
    "collect.handed_over_by": ("Handed over by", "Remise par"),
    "collect.handed_over_at": ("At", "À"),
    "collect.checked_by": ("Checked with", "Vérifiée par"),
    "collect.by_code": ("the pickup code", "le code de retrait"),
    "collect.by_name": ("the customer's name", "le nom du client"),
    "collect.back": ("Back to the shelf", "Retour aux retraits"),
    # e-reservations
    "reservations.title": ("Reservations", "Réservations"),
    "reservations.to_set_aside": ("To set aside", "À mettre de côté"),
    "reservations.none_open": (
        "No reservation waits to be set aside.",
        "Aucune réservation à mettre de côté.",
    ),
    "reservations.set_aside_title": ("Set aside: to sell at the till", "De côté : à encaisser"),
    "reservations.none_set_aside": ("No reservation is set aside.", "Aucune réservation de côté."),
    "reservations.expires": ("Kept until {time}", "Gardée jusqu'à {time}"),
    "reservations.number": ("Reservation {id}", "Réservation {id}"),
    "reservations.set-aside": ("Set aside", "Mettre de côté"),
    "reservations.convert": ("Convert into a sale", "Encaisser"),
    "reservations.cancel": ("Cancel", "Annuler"),
    "reservations.done_set_aside": (
        "Set aside for {customer}.",
        "Mise de côté pour {customer}.",
    ),
    "reservations.done_converted": (
        "Sold to {customer}: the units left the stock.",
        "Vendue à {customer} : les unités sont sorties du stock.",
    ),
    "reservations.done_cancelled": (
        "Cancelled: the units of {customer} are for sale again.",
        "Annulée : les unités de {customer} sont de nouveau en vente.",
    ),
    "reservations.refused": (
        "Refused: this reservation is {status}. Nothing was changed.",
        "Refusé : cette réservation est {status}. Rien n'a changé.",
    ),
    "reservations.open": ("open", "ouverte"),
    "reservations.set_aside": ("set aside", "de côté"),
    "reservations.converted": ("already sold", "déjà vendue"),
    "reservations.cancelled": ("cancelled", "annulée"),
    "reservations.expired": ("expired", "expirée"),
    # returns
    "returns.title": ("Returns", "Retours"),
    "returns.return": ("Return {id}", "Retour {id}"),
    "returns.id": ("Return number", "Numéro de retour"),
    "returns.id_hint": (
        "Scan the barcode of the return label, or type the number.",
        "Scannez le code-barres de l'étiquette de retour, ou tapez le numéro.",
    ),
    "returns.find": ("Find", "Trouver"),
    "returns.expected": ("Returns expected here", "Retours attendus ici"),
    "returns.none_expected": ("No return is expected here.", "Aucun retour attendu ici."),
    "returns.units": ("Units", "Unités"),
    "returns.unknown": (
        "No return {id} is expected at this store: check the number.",
        "Aucun retour {id} n'est attendu dans ce magasin : vérifiez le numéro.",
    ),
    "returns.reason": ("Reason", "Motif"),
    "returns.reason_does_not_fit": ("Does not fit", "Ne va pas"),
    "returns.reason_not_as_described": ("Not as described", "Non conforme"),
    "returns.reason_damaged": ("Damaged", "Abîmé"),
    "returns.reason_wrong_item": ("Wrong item", "Mauvais article"),
    "returns.reason_changed_mind": ("Changed their mind", "Changement d'avis"),
    "returns.reason_other": ("Other", "Autre"),
    "returns.status_requested": ("to receive", "à réceptionner"),
    "returns.status_received": ("received", "réceptionné"),
    "returns.inspect_hint": (
        "Inspect each unit: how many go back on sale, to second-hand (with a grade), or are"
        " damaged.",
        "Inspectez chaque unité : combien retournent en vente, vont en seconde main (avec un"
        " état) ou sont abîmées.",
    ),
    "returns.resell": ("Back on sale", "Remise en vente"),
    "returns.second_hand": ("Second-hand", "Seconde main"),
    "returns.damaged": ("Damaged", "Abîmé"),
    "returns.grade": ("Second-hand grade", "État (seconde main)"),
    "returns.grade_none": ("–", "–"),
    "returns.grade_like_new": ("Like new", "Comme neuf"),
    "returns.grade_good": ("Good", "Bon état"),
    "returns.grade_fair": ("Fair", "État correct"),
    "returns.confirm": ("Confirm the receipt", "Valider la réception"),
    "returns.back": ("Back to the returns", "Retour aux retours"),
    "returns.mismatch": (
        "{name}: {inspected} of {units} units inspected. Inspect each unit once.",
        "{name} : {inspected} unités inspectées sur {units}. Inspectez chaque unité une fois.",
    ),
    "returns.already_received": (
        "This return was received already: nothing was changed.",
        "Ce retour est déjà réceptionné : rien n'a changé.",
    ),
    "returns.no_hub": (
        "No second-hand hub takes graded units: put them back on sale or call the head office.",
        "Aucun centre de seconde main ne prend d'unités : remettez-les en vente ou appelez le"
        " siège.",
    ),
    "returns.done": ("Received. Refund due: {refund}.", "Réceptionné. À rembourser : {refund}."),
    "returns.refund_due": ("Refund due", "À rembourser"),
    "returns.fee": ("(return fee {fee} taken off)", "(frais de retour de {fee} déduits)"),
    # the manager's view
    "manager.title": ("Today's figures", "Chiffres du jour"),
    "manager.claimed": ("Claimed", "Prises"),
    "manager.rejected": ("Rejected", "Refusées"),
    "manager.late": ("Late", "En retard"),
    "manager.shipped": ("Shipped", "Expédiées"),
    "manager.offer_to_claim": ("Average time from offer to claim", "Délai moyen offre → prise"),
    "manager.claim_to_packed": (
        "Average time from claim to packed",
        "Délai moyen prise → emballage",
    ),
    "manager.minutes": ("{minutes} min", "{minutes} min"),
    "manager.no_data": ("no data yet", "pas encore de données"),
    "manager.day": ("{day}, {location}", "{day}, {location}"),
    # errors
    "error.not_found": ("Not found at this store.", "Introuvable dans ce magasin."),
    "error.not_found_title": ("Not found", "Introuvable"),
    "error.back": ("Back to the queue", "Retour à la file"),
    "error.stale_title": ("Form out of date", "Formulaire périmé"),
    "error.csrf": (
        "This form is out of date (it was sent twice, or the page is old): nothing was changed."
        " Please try again.",
        "Ce formulaire n'est plus valable (envoyé deux fois, ou page trop ancienne) : rien n'a"
        " changé. Veuillez réessayer.",
    ),
    "error.already_done": (
        "This was already done, or the order changed meanwhile: nothing was changed.",
        "C'est déjà fait, ou la commande a changé entre-temps : rien n'a changé.",
    ),
    "error.claim_does_not_fit": (
        "This store no longer has the units: the offer stays open to the other stores.",
        "Ce magasin n'a plus les unités : l'offre reste ouverte aux autres magasins.",
    ),
    "error.required": ("{field}: required.", "{field} : obligatoire."),
    "error.too_long": (
        "{field}: at most {max} characters.",
        "{field} : au plus {max} caractères.",
    ),
    "error.quantity": (
        "{field}: a whole number from {min} to {max}.",
        "{field} : un nombre entier de {min} à {max}.",
    ),
    "error.choose": ("{field}: choose one.", "{field} : choisissez une option."),
    "error.invalid": ("Refused: {detail}", "Refusé : {detail}"),
    "error.manager_only": (
        "Only a manager sees the figures.",
        "Seul un responsable voit les chiffres.",
    ),
}

CATALOGUE: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        key: MappingProxyType(dict(zip(LANGUAGES, texts, strict=True)))
        for key, texts in _CATALOGUE.items()
    }
)


def translate(language: str, key: str, **values: object) -> str:
    return CATALOGUE[key][language].format(**values)


def negotiate(accept_language: str | None, chosen: str | None) -> str:
    """The chosen language if we have it, else the browser's best one we have, else English."""
    if chosen in LANGUAGES:
        return str(chosen)
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT
