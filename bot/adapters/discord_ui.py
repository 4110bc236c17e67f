"""Buttons, the escalation destination picker and the note forms, as discord.py UI parts.

Everything a member can click carries its meaning in its `custom_id`, so a click or a
form sent after a restart still works without any state kept in memory:

* a post's button is `frontline:<action id>:<value>` (a `DynamicItem`, registered on
  every client with `add_dynamic_items`, so discord.py routes clicks on old messages);
* the picker's select menu is `frontline-escalate:<channel>:<message>` (the message
  to escalate; the guild comes with the interaction);
* a form is `frontline-note:<action id>:<value>` (a resolution note) or
  `frontline-reason:<destination>:<channel>:<message>`; submitted forms are read from
  the interaction itself (see `form_values`), not from a modal object kept in memory.

The work behind a click is done by the adapter (`Handler`): this module only builds
and recognises the parts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import discord

from bot.adapters.discord_embeds import cut
from bot.core.model import PostAction
from config.settings import DestinationConfig

log = logging.getLogger(__name__)

CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
BUTTONS_PER_MESSAGE = 25
OPTIONS_LIMIT = 25
OPTION_TEXT_LIMIT = 100
MODAL_TITLE_LIMIT = 45
NOTE_LIMIT = 1000
REASON_LIMIT = 500
NOTE_INPUT = "note"

ACTION_TEMPLATE = re.compile(r"frontline:(?P<action>[A-Za-z0-9_.\-]+):(?P<value>[^\s]*)")
PICKER_TEMPLATE = re.compile(r"frontline-escalate:(?P<channel>\d{1,20}):(?P<message>\d{1,20})")
NOTE_FORM = re.compile(r"frontline-note:(?P<action>[A-Za-z0-9_.\-]+):(?P<value>[^\s]*)")
REASON_FORM = re.compile(
    r"frontline-reason:(?P<destination>[^:\s]+):(?P<channel>\d{1,20}):(?P<message>\d{1,20})"
)

STYLES: Mapping[str, discord.ButtonStyle] = {
    "primary": discord.ButtonStyle.primary,
    "danger": discord.ButtonStyle.danger,
}

# Actions that ask for a note first; the label is the form's one field.
NOTE_ACTIONS: Mapping[str, tuple[str, str]] = {
    "escalation.resolve": ("Resolve the escalation", "Resolution note (sent to the member)"),
}


class Handler(Protocol):
    """What the adapter does when a button is clicked or a destination chosen."""

    async def on_button(self, interaction: discord.Interaction, action: str, value: str) -> None:
        """A post's button was clicked."""
        ...

    async def on_destination(
        self, interaction: discord.Interaction, channel: str, message: str, destination: str
    ) -> None:
        """A destination was chosen in the escalation picker."""
        ...


def _handler(interaction: discord.Interaction) -> Handler | None:
    # The client carries its adapter; a DynamicItem is built by discord.py, not by us.
    handler: Handler | None = getattr(interaction.client, "adapter", None)
    if handler is None:
        log.warning("Discord: click %s arrived with no adapter attached", interaction.id)
    return handler


def action_custom_id(action: PostAction) -> str | None:
    """The button's custom id, or None when the action cannot be one (too long, odd id)."""
    custom_id = f"frontline:{action.id}:{action.value}"
    if len(custom_id) > CUSTOM_ID_LIMIT or ACTION_TEMPLATE.fullmatch(custom_id) is None:
        return None
    return custom_id


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=ACTION_TEMPLATE
):
    """A button of a core `PostAction`; it works on any message, before or after a restart."""

    def __init__(
        self,
        custom_id: str,
        label: str = "",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        match = ACTION_TEMPLATE.fullmatch(custom_id)
        assert match is not None
        super().__init__(
            discord.ui.Button(
                label=cut(label, BUTTON_LABEL_LIMIT) or match["action"],
                style=style,
                custom_id=custom_id,
            )
        )
        self.action: str = match["action"]
        self.value: str = match["value"]

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ActionButton:
        """Rebuild the button from a click (discord.py calls this for every matching id)."""
        label = item.label if isinstance(item, discord.ui.Button) else None
        style = item.style if isinstance(item, discord.ui.Button) else None
        return cls(match.group(0), label or "", style or discord.ButtonStyle.secondary)

    async def callback(self, interaction: discord.Interaction) -> None:
        """Hand the click to the adapter."""
        handler = _handler(interaction)
        if handler is not None:
            await handler.on_button(interaction, self.action, self.value)


class DestinationSelect(
    discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]], template=PICKER_TEMPLATE
):
    """The escalation picker's menu of destinations, for one message."""

    def __init__(self, channel: str, message: str, options: Sequence[discord.SelectOption]) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"frontline-escalate:{channel}:{message}",
                placeholder="Choose where to escalate it",
                options=list(options),
                min_values=1,
                max_values=1,
            )
        )
        self.channel = channel
        self.message = message

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> DestinationSelect:
        """Rebuild the menu from a choice (discord.py calls this for every matching id)."""
        options = item.options if isinstance(item, discord.ui.Select) else []
        return cls(match["channel"], match["message"], options)

    async def callback(self, interaction: discord.Interaction) -> None:
        """Hand the chosen destination to the adapter."""
        data: Mapping[str, Any] = dict(interaction.data or {})
        values = list(self.item.values) or [str(v) for v in data.get("values", [])]
        handler = _handler(interaction)
        if handler is not None and values:
            await handler.on_destination(interaction, self.channel, self.message, str(values[0]))


def action_view(actions: Iterable[PostAction]) -> discord.ui.View | None:
    """The buttons of a post (None when it has none); clicks never time out."""
    view = discord.ui.View(timeout=None)
    for action in actions:
        custom_id = action_custom_id(action)
        if custom_id is None:
            log.warning(
                "Discord: button %r (%s) cannot be shown: its id is too long or has spaces",
                action.label,
                action.id,
            )
            continue
        if len(view.children) >= BUTTONS_PER_MESSAGE:
            log.warning("Discord: more than %d buttons on one post", BUTTONS_PER_MESSAGE)
            break
        style = STYLES.get(action.style, discord.ButtonStyle.secondary)
        view.add_item(ActionButton(custom_id, action.label, style))
    return view if view.children else None


def destination_options(destinations: Sequence[DestinationConfig]) -> list[discord.SelectOption]:
    """One menu entry per destination: its name, where it is and its reaction shortcut."""
    if len(destinations) > OPTIONS_LIMIT:
        log.warning(
            "Discord: only the first %d of %d destinations fit in the menu",
            OPTIONS_LIMIT,
            len(destinations),
        )
    options = []
    for destination in destinations[:OPTIONS_LIMIT]:
        hint = f"on {destination.platform.title()}"
        if destination.emoji:
            emoji = destination.emoji.strip(":")
            shown = emoji if not emoji.isascii() else f":{emoji}:"
            hint += f"; staff can also react with {shown}"
        options.append(
            discord.SelectOption(
                label=cut(destination.name, OPTION_TEXT_LIMIT),
                value=destination.name,
                description=cut(hint, OPTION_TEXT_LIMIT),
            )
        )
    return options


def picker_view(
    channel: str, message: str, destinations: Sequence[DestinationConfig]
) -> discord.ui.View:
    """The private menu shown after "Escalate": pick a destination for one message."""
    view = discord.ui.View(timeout=None)
    view.add_item(DestinationSelect(channel, message, destination_options(destinations)))
    return view


class NoteForm(discord.ui.Modal):
    """A form with one optional paragraph; its answer is read from the submit interaction.

    discord.py keeps a sent modal until it is submitted or times out; the timeout only
    bounds that memory, since `form_values` reads any submit, even after a restart.
    """

    def __init__(self, title: str, custom_id: str, label: str, limit: int) -> None:
        super().__init__(title=cut(title, MODAL_TITLE_LIMIT), custom_id=custom_id, timeout=60 * 60)
        self.note: discord.ui.TextInput[NoteForm] = discord.ui.TextInput(
            label=label,
            style=discord.TextStyle.paragraph,
            custom_id=NOTE_INPUT,
            required=False,
            max_length=limit,
        )
        self.add_item(self.note)


def note_form(action: str, value: str) -> NoteForm | None:
    """The form asking for a note before `action` runs, or None if it needs none."""
    wanted = NOTE_ACTIONS.get(action)
    custom_id = f"frontline-note:{action}:{value}"
    if wanted is None or len(custom_id) > CUSTOM_ID_LIMIT:
        return None
    title, label = wanted
    return NoteForm(title, custom_id, label, NOTE_LIMIT)


def reason_form(destination: DestinationConfig, index: int, channel: str, message: str) -> NoteForm:
    """The form after a destination is chosen: an optional reason for the team."""
    custom_id = f"frontline-reason:{destination.name}:{channel}:{message}"
    if len(custom_id) > CUSTOM_ID_LIMIT:
        # A very long destination name is carried by its position instead.
        custom_id = f"frontline-reason:#{index}:{channel}:{message}"
    return NoteForm(
        f"Escalate to {destination.name}",
        custom_id,
        "Reason (optional, shown to the team)",
        REASON_LIMIT,
    )


def destination_by_key(
    destinations: Sequence[DestinationConfig], key: str
) -> DestinationConfig | None:
    """The destination a form's custom id names (by name, or `#<position>`)."""
    if key.startswith("#") and key[1:].isdigit():
        index = int(key[1:])
        return destinations[index] if index < len(destinations) else None
    return next((d for d in destinations if d.name == key), None)


def form_values(data: Mapping[str, Any] | None) -> dict[str, str]:
    """The text typed in a submitted form, by input custom id (rows and labels unwrapped)."""
    values: dict[str, str] = {}

    def walk(components: Iterable[Any]) -> None:
        for component in components:
            if not isinstance(component, Mapping):
                continue
            if "components" in component:
                walk(component["components"])
            if "component" in component:
                walk([component["component"]])
            custom_id, value = component.get("custom_id"), component.get("value")
            if isinstance(custom_id, str) and isinstance(value, str):
                values[custom_id] = value

    walk((data or {}).get("components", []))
    return values
