"""The CSV upload kinds of the supply chain: customer returns, shipment manifests and receipts.
Pure.

Registered with the other kinds in :data:`unitrace.domain.imports.LAYOUTS`; ``docs/csv.md`` is
generated from these definitions too.
"""

from __future__ import annotations

from unitrace.domain.tabular import Column, Layout

CODE_TEXT = (
    "a unit code as printed, its short URL or its GS1 Digital Link (any case); or a Digital "
    "Link or GS1 element string with the GTIN and the serial the unit's brand printed"
)
# The unit and the store of a row, as sales and returns files name them.
UNIT_CODE = Column(
    "code",
    description=CODE_TEXT,
    example="https://id.example.com/7KQ2M9XH4T1R3B",
    max_length=500,
    aliases=("unit", "unit_code", "serial", "qr"),
)
STORE = Column(
    "store",
    description="the store's name, GLN or id in unitrace",
    example="Main Street",
    max_length=200,
    aliases=("location", "store_name", "location_id"),
)

RETURNS = Layout(
    kind="returns",
    title="Customer returns",
    description=(
        "One row per unit a customer brought back to one of your stores. Every unit must have "
        "been sold by you, at the store named (or at any of your stores when returns across "
        "stores are allowed), within the return window, and not be under recall; a unit put "
        "back on sale (`restock`) must not be past its batch's expiry. Each unit is recorded "
        "as returned and then restocked or quarantined, with one pair of events per store, "
        "day and action. The whole file is applied or nothing is; uploading it again changes "
        "nothing."
    ),
    columns=(
        UNIT_CODE,
        STORE,
        Column(
            "returned_at",
            "datetime",
            required=False,
            description="when it was returned, ISO 8601 with a time zone; empty: the upload time",
            example="2026-11-22T11:05:00-08:00",
            aliases=("time", "return_time", "date"),
        ),
        Column(
            "action",
            required=False,
            description=(
                "`restock` puts the unit back on sale, `quarantine` sets it aside; empty: restock"
            ),
            example="restock",
            choices=("restock", "quarantine"),
        ),
        Column(
            "reason",
            required=False,
            description="why the customer returned it (kept with the events)",
            example="wrong strain",
            max_length=500,
        ),
    ),
)


SHIPMENTS = Layout(
    kind="shipments",
    title="Shipment manifests",
    description=(
        "One row per item to put on a shipment: each distinct `shipment` reference becomes "
        "one draft shipment with every item listed under it. Items are your units, cases or "
        "pallets in stock (a unit packed in a case is shipped with its case); an item may be "
        "listed once in the file. All rows of one reference must name the same destination "
        "and expected arrival. The answer lists the new shipments' numbers; they are drafts "
        "until shipped."
    ),
    columns=(
        Column(
            "shipment",
            description="your reference for one shipment: rows with the same one go together",
            example="PO-4471",
            max_length=100,
            aliases=("reference", "shipment_reference", "manifest"),
        ),
        Column(
            "destination",
            description="the receiving organization's name",
            example="Green Leaf Retail",
            max_length=200,
            aliases=("destination_organization", "customer", "to"),
        ),
        Column(
            "destination_location",
            description="the name of the destination's location that receives it",
            example="Main Street",
            max_length=200,
            aliases=("location", "store"),
        ),
        Column(
            "code",
            description="a unit code, a case or pallet code, or an SSCC, as a scanner reads it",
            example="7KQ2M9XH4T1R3B",
            max_length=500,
            aliases=("item", "unit", "sscc"),
        ),
        Column("expected_arrival", "date", required=False, example="2026-11-28"),
    ),
)


RECEIPTS = Layout(
    kind="receipts",
    title="Receipts (scans of incoming shipments)",
    description=(
        "A receiving scanner's export: one row per scan of an item of a shipment in transit "
        "to you. Each shipment's scans are recorded and the shipment is received: the scanned "
        "units are taken in, units on the manifest nobody scanned are recorded as missing "
        "(the shipment is then *received with discrepancies*). A scan of anything that is not "
        "on that shipment (another shipment's item, someone else's code, an unreadable code) "
        "refuses the whole file, so nothing unexpected is accepted silently; scanning the same "
        "item twice, or a pallet and then a case on it, is harmless. The answer gives each "
        "shipment's received, missing and unexpected counts."
    ),
    columns=(
        Column(
            "shipment",
            description="the shipment's number as unitrace shows it",
            example="SH-7KQ2M9XH",
            max_length=40,
            aliases=("shipment_number", "number"),
        ),
        Column(
            "code",
            description="the scanner's text: a unit, case or pallet code, short URL or SSCC",
            example="https://id.example.com/7KQ2M9XH4T1R3B",
            max_length=500,
            aliases=("scan", "raw", "barcode"),
        ),
    ),
)
