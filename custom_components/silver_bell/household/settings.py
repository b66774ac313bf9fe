"""The household's settings (config entry options) with their defaults."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time, timedelta
from typing import Any

from ..const import (
    CEILING_WARNING_BEFORE_MIN,
    CONF_ACTIVITY_SENSORS,
    CONF_AUTO_AWAY,
    CONF_AWAY_MAX,
    CONF_BASELINE,
    CONF_CEILING_DAY,
    CONF_CEILING_NIGHT,
    CONF_COLD_BELOW,
    CONF_DAY_ALARM,
    CONF_DAY_END,
    CONF_DAY_START,
    CONF_DAY_WARNING,
    CONF_DOOR_SENSOR,
    CONF_FALSE_ALARM_BUDGET,
    CONF_FIRE_RATE,
    CONF_FIRE_RATE_FLOOR,
    CONF_FIRE_SENSORS,
    CONF_FIRE_STATIC,
    CONF_GRACE,
    CONF_HEAT_ABOVE,
    CONF_HELP_BUTTONS,
    CONF_NIGHT_ALARM,
    CONF_NIGHT_WARNING,
    CONF_NOTIFY,
    CONF_NOTIFY_LANGUAGES,
    CONF_TEMPERATURE_DURATION,
    CONF_TEMPERATURE_SENSORS,
    DEFAULT_AUTO_AWAY,
    DEFAULT_AUTO_AWAY_QUIET_MIN,
    DEFAULT_AWAY_CHECK_MIN,
    DEFAULT_AWAY_MAX_MIN,
    DEFAULT_AWAY_MIN_OUTINGS,
    DEFAULT_AWAY_OUTING_QUANTILE,
    DEFAULT_BASELINE,
    DEFAULT_BASELINE_LEARNING_DAYS,
    DEFAULT_BATTERY_LOW_PCT,
    DEFAULT_CEILING_DAY_MIN,
    DEFAULT_CEILING_NIGHT_MIN,
    DEFAULT_COLD_BELOW_C,
    DEFAULT_DAY_ALARM_MIN,
    DEFAULT_DAY_END,
    DEFAULT_DAY_START,
    DEFAULT_DAY_WARNING_MIN,
    DEFAULT_FALSE_ALARM_BUDGET,
    DEFAULT_FIRE_RATE_C_PER_MIN,
    DEFAULT_FIRE_RATE_FLOOR_C,
    DEFAULT_FIRE_RATE_WINDOW_MIN,
    DEFAULT_FIRE_STATIC_C,
    DEFAULT_GRACE_MIN,
    DEFAULT_HEAT_ABOVE_C,
    DEFAULT_MOTION_SILENT_H,
    DEFAULT_NIGHT_ALARM_MIN,
    DEFAULT_NIGHT_WARNING_MIN,
    DEFAULT_SENSOR_FLAPPING_OUTAGES,
    DEFAULT_SENSOR_FLAPPING_SHARE,
    DEFAULT_SENSOR_FLAPPING_SHARE_WITHIN_MIN,
    DEFAULT_SENSOR_FLAPPING_WITHIN_MIN,
    DEFAULT_SENSOR_STEADY_MIN,
    DEFAULT_SENSOR_UNAVAILABLE_MIN,
    DEFAULT_TEMPERATURE_DURATION_MIN,
    SENSOR_OUTAGES_KEPT,
)
from ..core.household.events import EngineSettings, Sensors
from ..core.monitor.away import AwayConfig
from ..core.monitor.engine import EngineConfig, ceiling_windows
from ..core.monitor.fire import FireConfig
from ..core.monitor.health import HealthConfig
from ..core.monitor.inactivity import WindowConfig
from ..core.monitor.routine import RoutineConfig
from ..core.monitor.temperature import TemperatureConfig

DEFAULTS: Mapping[str, Any] = {
    CONF_DAY_START: DEFAULT_DAY_START,
    CONF_DAY_END: DEFAULT_DAY_END,
    CONF_DAY_WARNING: DEFAULT_DAY_WARNING_MIN,
    CONF_DAY_ALARM: DEFAULT_DAY_ALARM_MIN,
    CONF_NIGHT_WARNING: DEFAULT_NIGHT_WARNING_MIN,
    CONF_NIGHT_ALARM: DEFAULT_NIGHT_ALARM_MIN,
    CONF_BASELINE: DEFAULT_BASELINE,
    CONF_CEILING_DAY: DEFAULT_CEILING_DAY_MIN,
    CONF_CEILING_NIGHT: DEFAULT_CEILING_NIGHT_MIN,
    CONF_FALSE_ALARM_BUDGET: DEFAULT_FALSE_ALARM_BUDGET,
    CONF_GRACE: DEFAULT_GRACE_MIN,
    CONF_FIRE_STATIC: DEFAULT_FIRE_STATIC_C,
    CONF_FIRE_RATE: DEFAULT_FIRE_RATE_C_PER_MIN,
    CONF_FIRE_RATE_FLOOR: DEFAULT_FIRE_RATE_FLOOR_C,
    CONF_COLD_BELOW: DEFAULT_COLD_BELOW_C,
    CONF_HEAT_ABOVE: DEFAULT_HEAT_ABOVE_C,
    CONF_TEMPERATURE_DURATION: DEFAULT_TEMPERATURE_DURATION_MIN,
    CONF_AUTO_AWAY: DEFAULT_AUTO_AWAY,
    CONF_AWAY_MAX: DEFAULT_AWAY_MAX_MIN,
    CONF_NOTIFY: [],
    CONF_NOTIFY_LANGUAGES: {},
}


def settings_of(options: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's options completed with defaults."""
    return {**DEFAULTS, **options}


def engine_config(options: Mapping[str, Any], *, door_sensor: bool) -> EngineConfig:
    """The inactivity engine's settings from the entry's options (defaults filled in).

    Automatic away takes effect only with a front-door sensor (``door_sensor``).
    """
    opts = settings_of(options)
    windows = WindowConfig(
        day_start=time.fromisoformat(opts[CONF_DAY_START]),
        day_end=time.fromisoformat(opts[CONF_DAY_END]),
        day_warning=timedelta(minutes=opts[CONF_DAY_WARNING]),
        day_alarm=timedelta(minutes=opts[CONF_DAY_ALARM]),
        night_warning=timedelta(minutes=opts[CONF_NIGHT_WARNING]),
        night_alarm=timedelta(minutes=opts[CONF_NIGHT_ALARM]),
    )
    return EngineConfig(
        windows=windows,
        # Never shorter than the fixed alarm times (entries saved before the
        # ceiling existed were not checked by the options form).
        ceiling=ceiling_windows(
            windows,
            day_alarm=timedelta(minutes=opts[CONF_CEILING_DAY]),
            night_alarm=timedelta(minutes=opts[CONF_CEILING_NIGHT]),
            warning_before=timedelta(minutes=CEILING_WARNING_BEFORE_MIN),
        ),
        routine=RoutineConfig(
            learning_days=DEFAULT_BASELINE_LEARNING_DAYS,
            false_alarm_budget=float(opts[CONF_FALSE_ALARM_BUDGET]),
            day_start=windows.day_start,
            day_end=windows.day_end,
        ),
        away=AwayConfig(
            auto=bool(opts[CONF_AUTO_AWAY]) and door_sensor,
            quiet=timedelta(minutes=DEFAULT_AUTO_AWAY_QUIET_MIN),
            max_away=timedelta(minutes=opts[CONF_AWAY_MAX]),
            check_after=timedelta(minutes=DEFAULT_AWAY_CHECK_MIN),
            min_outings=DEFAULT_AWAY_MIN_OUTINGS,
            outing_quantile=DEFAULT_AWAY_OUTING_QUANTILE,
        ),
        learned=bool(opts[CONF_BASELINE]),
    )


def engine_settings(
    data: Mapping[str, Any], options: Mapping[str, Any], *, forwarding: bool
) -> EngineSettings:
    """The household engine's settings from the entry's data (sensors) and options.

    ``forwarding``: the household is paired with a hub.
    """
    opts = settings_of(options)
    door = data.get(CONF_DOOR_SENSOR)
    return EngineSettings(
        sensors=Sensors(
            activity=tuple(data.get(CONF_ACTIVITY_SENSORS, [])),
            fire=tuple(data.get(CONF_FIRE_SENSORS, [])),
            temperature=tuple(data.get(CONF_TEMPERATURE_SENSORS, [])),
            help_buttons=tuple(data.get(CONF_HELP_BUTTONS, [])),
            door=door,
        ),
        inactivity=engine_config(options, door_sensor=door is not None),
        fire=FireConfig(
            static_c=opts[CONF_FIRE_STATIC],
            rate_c_per_min=opts[CONF_FIRE_RATE],
            rate_floor_c=opts[CONF_FIRE_RATE_FLOOR],
            window=timedelta(minutes=DEFAULT_FIRE_RATE_WINDOW_MIN),
        ),
        temperature=TemperatureConfig(
            cold_below=opts[CONF_COLD_BELOW],
            heat_above=opts[CONF_HEAT_ABOVE],
            duration=timedelta(minutes=opts[CONF_TEMPERATURE_DURATION]),
        ),
        health=HealthConfig(
            unavailable_after=timedelta(minutes=DEFAULT_SENSOR_UNAVAILABLE_MIN),
            battery_low_pct=DEFAULT_BATTERY_LOW_PCT,
            silent_after=timedelta(hours=DEFAULT_MOTION_SILENT_H),
            flapping_outages=DEFAULT_SENSOR_FLAPPING_OUTAGES,
            flapping_within=timedelta(minutes=DEFAULT_SENSOR_FLAPPING_WITHIN_MIN),
            flapping_share=DEFAULT_SENSOR_FLAPPING_SHARE,
            flapping_share_within=timedelta(
                minutes=DEFAULT_SENSOR_FLAPPING_SHARE_WITHIN_MIN
            ),
            steady_after=timedelta(minutes=DEFAULT_SENSOR_STEADY_MIN),
            outages_kept=SENSOR_OUTAGES_KEPT,
        ),
        grace=timedelta(minutes=opts[CONF_GRACE]),
        forwarding=forwarding,
    )
