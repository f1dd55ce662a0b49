"""FinOps FOCUS 1.2 cost-and-usage CSV, one row per interval per UTC day.

Daily charge periods are what the clouds' own FOCUS exports use, and a day never
crosses a billing period (a UTC calendar month), so each row sits in one period.
skytui prices usage from catalogs: these rows estimate an invoice, they are not one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from skytui.core.costs.accounting import split_by_day
from skytui.core.costs.formats.common import cell, csv_text, price_text
from skytui.core.costs.model import DISK
from skytui.core.costs.units import fmt_micro, iso_z, month_bounds_ms

if TYPE_CHECKING:
    from skytui.core.costs.report_model import Report

FOCUS_VERSION = "1.2"

FOCUS_COLUMNS = (
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuPriceId",
    "Tags",
    "x_GpuType",
    "x_GpuCount",
    "x_Job",
    "x_Attempt",
    "x_OnDemandEquivalentCost",
    "x_Estimate",
    "x_EstimateSource",
)

PROVIDERS = {"aws": "AWS", "gcp": "Google Cloud", "local": "skytui local cloud (estimate)"}
_SERVICES = {
    "aws": ("Amazon Elastic Compute Cloud", "Amazon Elastic Block Store"),
    "gcp": ("Compute Engine", "Compute Engine"),
    "local": ("skytui local cloud", "skytui local cloud"),
}


def provider_name(cloud: str) -> str:
    """The FOCUS ProviderName for a skytui cloud name."""
    return PROVIDERS.get(cloud, cloud)


def to_focus(report: Report) -> str:
    """The report's usage as FOCUS 1.2 rows (ChargeCategory Usage, costs in USD)."""
    return csv_text(FOCUS_COLUMNS, _lines(report))


def _lines(report: Report) -> Iterator[str]:
    currency = report.currency
    periods: dict[int, tuple[str, str]] = {}
    for item in split_by_day(report.items):
        iv = item.interval
        disk = iv.kind == DISK
        day_key = item.start_ms // 86_400_000
        period = periods.get(day_key)
        if period is None:
            start, end = month_bounds_ms(item.start_ms)
            period = periods[day_key] = (iso_z(start), iso_z(end))
        provider = cell(provider_name(iv.cloud))
        compute_service, disk_service = _SERVICES.get(iv.cloud, (iv.cloud, iv.cloud))
        region = cell(iv.region)
        billed = fmt_micro(item.cost_micro)
        listed = fmt_micro(item.on_demand_micro)
        hours = fmt_micro(item.hours_micro)
        pricing = "on-demand" if disk or not iv.spot else "spot"
        resource = cell(f"{iv.cluster}/node-{iv.node}" + ("/disk" if disk else ""))
        what = f"disk of {iv.instance_type} while stopped" if disk else iv.instance_type
        description = f"{what}, {pricing}, {iv.region}, cluster {iv.cluster} node {iv.node}"
        if iv.is_estimate:
            description += " (estimate)"
        tags = {"skytui-cluster": iv.cluster, "skytui-node": str(iv.node), "skytui-user": iv.user}
        if iv.job_id is not None:
            tags["skytui-job"] = str(iv.job_id)
        yield ",".join(
            (
                cell(iv.zone or ""),
                billed,
                cell(f"skytui-{iv.cloud}"),
                cell(f"{provider_name(iv.cloud)} usage recorded by skytui"),
                currency,
                period[1],
                period[0],
                "Usage",
                "",
                cell(description),
                "Usage-Based",
                iso_z(item.end_ms),
                iso_z(item.start_ms),
                hours,
                "Hours",
                billed,
                price_text(iv.price_per_hour),
                billed,
                provider,
                listed,
                price_text(iv.on_demand_price_per_hour),
                "Standard" if pricing == "on-demand" else "Dynamic",
                hours,
                "Hours",
                provider,
                provider,
                region,
                region,
                resource,
                resource,
                "Disk" if disk else "Virtual Machine",
                "Storage" if disk else "Compute",
                cell(disk_service if disk else compute_service),
                "Block Storage" if disk else "Virtual Machines",
                cell(f"{iv.instance_type}:disk" if disk else iv.instance_type),
                cell(f"{iv.cloud}/{iv.region}/{iv.instance_type}/{'disk' if disk else pricing}"),
                cell(json.dumps(tags, sort_keys=True, separators=(",", ":"))),
                "" if disk else cell(iv.accelerator or ""),
                str(iv.accelerator_count) if iv.accelerator and not disk else "0",
                "" if iv.job_id is None else str(iv.job_id),
                "" if iv.attempt is None else str(iv.attempt),
                listed,
                "true" if iv.is_estimate else "false",
                cell(iv.estimate_source),
            )
        )
