"""What every step of the hub's options flow shares: the entry, the running hub, the fields."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry, OptionsFlow
from homeassistant.helpers import selector
import voluptuous as vol

from ..compat import ConfigFlowResult, loaded_runtime
from .runtime import Hub

LANGUAGES = ["zh-Hans", "en"]


def number_field(minimum: int, maximum: int) -> selector.NumberSelector:
    """A whole number; its unit is in the field's translated label.

    (A number selector's unit is shown untranslated on Home Assistant 2024.3.)
    """
    return selector.NumberSelector(
        selector.NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=1,
            mode=selector.NumberSelectorMode.BOX,
        )
    )


def select_field(
    options: list[str],
    *,
    multiple: bool = False,
    custom: bool = False,
    key: str | None = None,
) -> selector.SelectSelector:
    """A dropdown of ``options``; ``key`` names their translations."""
    config = selector.SelectSelectorConfig(
        options=options,
        multiple=multiple,
        custom_value=custom,
        mode=selector.SelectSelectorMode.DROPDOWN,
    )
    if key:
        config["translation_key"] = key
    return selector.SelectSelector(config)


def language_field() -> selector.LanguageSelector:
    """Home Assistant's language picker, offering the languages pushes are written in.

    The frontend names each language itself (in its own script), so strings.json
    needs no ``selector.language`` entry (hassfest refuses the ``zh-Hans`` key there).
    """
    return selector.LanguageSelector(
        selector.LanguageSelectorConfig(languages=list(LANGUAGES), native_name=True)
    )


class HubOptionsFlowBase(OptionsFlow):
    """The entry and the running hub; the steps live in mixins (ledger, channels, settings)."""

    def __init__(self, entry: ConfigEntry) -> None:
        """Keep the entry (never assign self.config_entry: read-only on 2024.11+)."""
        self._entry = entry
        self._code = ""
        self._removing = ""  # the household, volunteer or channel awaiting confirmation

    @property
    def _hub(self) -> Hub:
        return loaded_runtime(self._entry, Hub)

    def _done(self) -> ConfigFlowResult:
        """Finish without changing settings (so the entry is not reloaded)."""
        return self.async_create_entry(title="", data=dict(self._entry.options))

    def _choose_one_form(
        self,
        step_id: str,
        field: str,
        options: list[Any],
        *,
        none_reason: str,
        errors: dict[str, str],
    ) -> ConfigFlowResult:
        """Pick one of ``options`` (a removal); abort with ``none_reason`` when there are none.

        Optional, no default: nothing is preselected (the frontend fills only
        required selects with their first option), so nobody removes the first
        entry by pressing Submit; an empty choice is the step's own error.
        """
        if not options:
            return self.async_abort(reason=none_reason)
        return self.async_show_form(
            step_id=step_id,
            data_schema=vol.Schema(
                {
                    vol.Optional(field): selector.SelectSelector(
                        selector.SelectSelectorConfig(options=options)
                    )
                }
            ),
            errors=errors,
        )

    async def async_step_keep(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The removal was not confirmed: change nothing."""
        return self.async_abort(reason="nothing_removed")
