"""The new dev VM dialog: name, a GPU from the catalog with its prices, region (best first), autostop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from skytui.tui.screens.form import FormScreen

if TYPE_CHECKING:
    from skytui.core.context import Core

CPU_ONLY = "cpu"


@dataclass(frozen=True)
class DevRequest:
    """What the user asked for; the app turns it into a launch."""

    name: str
    gpus: str | None  # "A100:1", or None for CPU only
    spot: bool
    cloud: str | None
    region: str | None
    autostop_minutes: int


def gpu_choices(core: Core) -> list[tuple[str, str]]:
    """(label, value) per GPU type on the enabled clouds, cheapest region's prices."""
    from skytui.core.offerings import offerings_for
    from skytui.core.show_gpus import gpu_table

    get = offerings_for(core.config)
    offers = [o for cloud in core.config.enabled_clouds for o in get(cloud)]
    seen: dict[str, dict[str, Any]] = {}
    for row in gpu_table(None, False, offers):
        value = f"{row['accelerator']}:{row['count']}"
        best = seen.get(value)
        if best is None or row["price"] < best["price"]:
            seen[value] = row
    out = [("CPU only (no GPU)", CPU_ONLY)]
    for value, row in seen.items():
        spot = f"${row['spot_price']:.2f}" if row["spot_price"] is not None else "-"
        out.append((f"{value:<10} on-demand ${row['price']:.2f}/h  spot {spot}/h  ({row['cloud']})", value))
    return out


def region_choices(core: Core, gpus: str | None, spot: bool) -> list[tuple[str, str]]:
    """(label, "cloud/region") per region offering the shape, nearest first: RTT beside $/h."""
    return region_options(core, gpus, spot)[0]


def region_options(core: Core, gpus: str | None, spot: bool) -> tuple[list[tuple[str, str]], str]:
    """The choices, nearest first, and a line naming a much cheaper region (or why RTTs are guesses)."""
    from skytui.core.dev import dev_task
    from skytui.core.regions.choice import cheaper_line, dev_choice

    choice = dev_choice(core, dev_task("dev", gpus, spot))
    width = max(len(f"{o.candidate.cloud}/{o.candidate.region}") for o in choice.options)
    options = []
    for o in choice.options:
        c = o.candidate
        where = f"{c.cloud}/{c.region}"
        label = f"{where:<{width}}  {_rtt(o.rtt_ms, o.method):>10}  ${c.price_per_hour:.2f}/h  {c.instance_type}"
        options.append((label, where))
    note = cheaper_line(choice) or choice.note or ""
    return options, note


def _rtt(ms: float | None, method: str) -> str:
    if ms is None:
        return "? ms"
    return f"~{ms:.0f} ms" if method == "geo" else f"{ms:.1f} ms"


class NewDevScreen(FormScreen[DevRequest | None]):
    """Catalog reads run in a worker; the dialog only shows what they post back."""

    class Choices(Message):
        def __init__(self, what: str, options: list[tuple[str, str]], error: str | None = None,
                     note: str = "") -> None:
            super().__init__()
            self.what, self.options, self.error, self.note = what, options, error, note

    def __init__(self, core: Core, default_name: str, autostop_minutes: int) -> None:
        super().__init__()
        self.core, self.default_name, self.autostop_minutes = core, default_name, autostop_minutes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("New dev VM", classes="dialog-title")
            yield Label("Name")
            yield Input(self.default_name, id="name")
            yield Label("GPU (prices per hour, cheapest region)")
            yield Select([("CPU only (no GPU)", CPU_ONLY)], value=CPU_ONLY, allow_blank=False, id="gpu")
            yield Checkbox("Spot (cheaper; can be preempted)", False, id="spot")
            yield Label("Region (nearest first: round trip, $/h; ~ is a guess from your time zone)")
            yield Select([], prompt="measuring round trips and prices…", id="region")
            yield Static("", id="region-note", classes="dialog-note")
            yield Label("Autostop after idle minutes (0: never)")
            yield Input(str(self.autostop_minutes), id="autostop", type="integer")
            yield Static("", id="problem", classes="dialog-problem")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Launch", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        self.load_gpus()
        self.load_regions(None, False)

    @work(thread=True, exclusive=True, group="gpus", exit_on_error=False)
    def load_gpus(self) -> None:
        try:
            self.post_message(self.Choices("gpu", gpu_choices(self.core)))
        except Exception as exc:  # noqa: BLE001 - shown in the dialog (a catalog or config problem), never a crash
            self.post_message(self.Choices("gpu", [], str(exc)))

    @work(thread=True, exclusive=True, group="regions", exit_on_error=False)
    def load_regions(self, gpus: str | None, spot: bool) -> None:
        try:
            options, note = region_options(self.core, gpus, spot)
            self.post_message(self.Choices("region", options, note=note))
        except Exception as exc:  # noqa: BLE001 - shown in the dialog (no region offers the shape), never a crash
            self.post_message(self.Choices("region", [], str(exc)))

    def on_new_dev_screen_choices(self, msg: Choices) -> None:
        problem = self.query_one("#problem", Static)
        if msg.error:
            problem.update(msg.error)
        select: Select[str] = self.query_one(f"#{msg.what}", Select)
        if msg.what == "gpu":
            if msg.options:
                select.set_options(msg.options)
                select.value = CPU_ONLY
            return
        if not msg.options:
            select.set_options([])
            problem.update(msg.error or "no region offers this choice; pick another GPU or turn spot off")
            return
        problem.update("")
        self.query_one("#region-note", Static).update(msg.note)
        select.set_options(msg.options)
        select.value = msg.options[0][1]

    def _gpus(self) -> str | None:
        value = self.query_one("#gpu", Select).value
        return value if isinstance(value, str) and value != CPU_ONLY else None

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "gpu":
            self.load_regions(self._gpus(), self.query_one("#spot", Checkbox).value)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.load_regions(self._gpus(), event.value)

    def _submit(self) -> None:
        from skytui.errors import SkytuiError
        from skytui.names import validate_name

        problem = self.query_one("#problem", Static)
        name = self.query_one("#name", Input).value.strip()
        try:
            validate_name(name)
        except SkytuiError as exc:
            problem.update(str(exc))
            return
        try:
            minutes = int(self.query_one("#autostop", Input).value.strip() or "0")
        except ValueError:
            minutes = -1
        if minutes < 0:
            problem.update("autostop: a whole number of minutes, 0 or more")
            return
        region_value = self.query_one("#region", Select).value
        if not isinstance(region_value, str):
            problem.update("no region yet: wait for prices, or pick another GPU")
            return
        cloud, _, region = str(region_value).partition("/")
        self.dismiss(DevRequest(name, self._gpus(), self.query_one("#spot", Checkbox).value, cloud, region,
                                minutes))
