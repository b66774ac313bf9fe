"""Constants for Silver Bell: keys, defaults and thresholds. No logic lives here."""

from __future__ import annotations

from typing import Final

DOMAIN: Final = "silver_bell"
MANUFACTURER: Final = "Silver Bell"

# Config entry versions (bump together with a migration in __init__.py).
CONFIG_VERSION: Final = 1
CONFIG_MINOR_VERSION: Final = 1

# Store versions (bump together with a migration in the store module).
STORE_VERSION: Final = 1
STORE_MINOR_VERSION: Final = 2  # 1.2: the household's activity history
SAVE_DELAY_SECONDS: Final = 2

# Roles
CONF_ROLE: Final = "role"
ROLE_HOUSEHOLD: Final = "household"
ROLE_HUB: Final = "hub"

# Household config data (sensors; changed through options "sensors" step / reconfigure)
CONF_NAME: Final = "name"
CONF_AREA: Final = "area"
CONF_ACTIVITY_SENSORS: Final = "activity_sensors"
CONF_FIRE_SENSORS: Final = "fire_sensors"
CONF_TEMPERATURE_SENSORS: Final = "temperature_sensors"
CONF_HELP_BUTTONS: Final = "help_buttons"
CONF_DOOR_SENSOR: Final = "door_sensor"
# Devices of the area already offered (config flow) or seen at first start; a device
# that joins the area later and is not among them raises the "new sensor" repair.
CONF_KNOWN_DEVICES: Final = "known_devices"

# Household options (settings)
CONF_DAY_START: Final = "day_start"
CONF_DAY_END: Final = "day_end"
CONF_DAY_WARNING: Final = "day_warning"
CONF_DAY_ALARM: Final = "day_alarm"
CONF_NIGHT_WARNING: Final = "night_warning"
CONF_NIGHT_ALARM: Final = "night_alarm"
CONF_CEILING_DAY: Final = "ceiling_day"
CONF_CEILING_NIGHT: Final = "ceiling_night"
CONF_BASELINE: Final = "learned_baseline"
CONF_GRACE: Final = "check_in_grace"
CONF_FIRE_STATIC: Final = "fire_static_temperature"
CONF_FIRE_RATE: Final = "fire_rate_of_rise"
CONF_FIRE_RATE_FLOOR: Final = "fire_rate_floor"
CONF_COLD_BELOW: Final = "cold_below"
CONF_HEAT_ABOVE: Final = "heat_above"
CONF_TEMPERATURE_DURATION: Final = "temperature_duration"
CONF_AUTO_AWAY: Final = "auto_away"
CONF_AWAY_MAX: Final = "away_max"
CONF_FALSE_ALARM_BUDGET: Final = "false_alarm_budget"
# Optional person / device_tracker entity: an inferred outing needs it to agree.
CONF_PRESENCE: Final = "presence_entity"
CONF_NOTIFY: Final = "notify_targets"
# Each family notify target's language ({target: "en" | "zh-Hans"}); absent: the server's.
CONF_NOTIFY_LANGUAGES: Final = "notify_languages"

# Defaults. Durations are in minutes (what the options form edits), temperatures in °C.
DEFAULT_DAY_START: Final = "07:00:00"
DEFAULT_DAY_END: Final = "22:00:00"
DEFAULT_DAY_WARNING_MIN: Final = 120
DEFAULT_DAY_ALARM_MIN: Final = 180
DEFAULT_NIGHT_WARNING_MIN: Final = 480
DEFAULT_NIGHT_ALARM_MIN: Final = 600
# Once the routine is learned, the fixed windows become a safety ceiling.
DEFAULT_CEILING_DAY_MIN: Final = 360
DEFAULT_CEILING_NIGHT_MIN: Final = 720
CEILING_WARNING_BEFORE_MIN: Final = 60
DEFAULT_GRACE_MIN: Final = 10
DEFAULT_FIRE_STATIC_C: Final = 57.0
DEFAULT_FIRE_RATE_C_PER_MIN: Final = 8.0
DEFAULT_FIRE_RATE_FLOOR_C: Final = 35.0
DEFAULT_FIRE_RATE_WINDOW_MIN: Final = 10
DEFAULT_COLD_BELOW_C: Final = 16.0
DEFAULT_HEAT_ABOVE_C: Final = 32.0
DEFAULT_TEMPERATURE_DURATION_MIN: Final = 120
DEFAULT_AUTO_AWAY: Final = True  # takes effect only with a front-door sensor
DEFAULT_AWAY_MAX_MIN: Final = 720
# Escalated inactivity alarms per 30 days the learned thresholds are calibrated to
# (docs/inactivity-evaluation.md: the false-alarm budget).
DEFAULT_FALSE_ALARM_BUDGET: Final = 1.0
DEFAULT_AUTO_AWAY_QUIET_MIN: Final = 30
# An inferred outing (door, then silence) is checked (the inactivity check-in)
# after this long while fewer than DEFAULT_AWAY_MIN_OUTINGS outings are learned;
# then when it outlasts this quantile of the learned outings (never earlier).
DEFAULT_AWAY_CHECK_MIN: Final = 120
DEFAULT_AWAY_MIN_OUTINGS: Final = 5
DEFAULT_AWAY_OUTING_QUANTILE: Final = 0.95
DEFAULT_BASELINE: Final = True
DEFAULT_BASELINE_LEARNING_DAYS: Final = 7
DEFAULT_SENSOR_UNAVAILABLE_MIN: Final = 30
DEFAULT_BATTERY_LOW_PCT: Final = 15.0
DEFAULT_MOTION_SILENT_H: Final = 72
# A sensor that keeps dropping out (docs/families.md, "When a sensor is unavailable"):
# this many outages beginning within the window, or unavailable for this share of the
# longer window over at least two outages; clear after this long steady.
DEFAULT_SENSOR_FLAPPING_OUTAGES: Final = 4
DEFAULT_SENSOR_FLAPPING_WITHIN_MIN: Final = 60
DEFAULT_SENSOR_FLAPPING_SHARE: Final = 0.25
DEFAULT_SENSOR_FLAPPING_SHARE_WITHIN_MIN: Final = 180
DEFAULT_SENSOR_STEADY_MIN: Final = 60
SENSOR_OUTAGES_KEPT: Final = 50  # per sensor, the memory bound of the flapping rule

# Events and services
EVENT_INCIDENT: Final = "silver_bell_incident"
SERVICE_RAISE_HELP: Final = "raise_help"
SERVICE_ACKNOWLEDGE: Final = "acknowledge"
SERVICE_RESOLVE: Final = "resolve"
SERVICE_RETRY_DEAD_LETTERS: Final = "retry_dead_letters"
ATTR_DEVICE_ID: Final = "device_id"
ATTR_INCIDENT_ID: Final = "incident_id"
ATTR_MESSAGE: Final = "message"
ATTR_RESOLUTION: Final = "resolution"
SERVICE_RATE_HELP: Final = "rate_help"
ATTR_RATING: Final = "rating"
ATTR_COMMENT: Final = "comment"

# Satisfaction survey after a handled alarm (issue 22): one per hub incident.
SURVEY_DAYS: Final = 7  # no answer after this long closes it as "no answer"
SURVEY_RATING_MIN: Final = 1
SURVEY_RATING_MAX: Final = 5
SURVEY_COMMENT_MAX_CHARS: Final = 500
SURVEY_REPORT_MONTHS: Final = 12  # months in the hub's survey report by default

# Forwarding to the hub (household side; stored in entry.data once paired)
CONF_PAIRING_CODE: Final = "pairing_code"
CONF_HUB_URL: Final = "hub_url"
CONF_HOUSEHOLD_ID: Final = "household_id"
CONF_SECRET: Final = "secret"  # noqa: S105 - a key name, not a secret
HEARTBEAT_INTERVAL_MIN: Final = 5
PROGRESS_POLL_SECONDS: Final = 60
HUB_UNREACHABLE_REPAIR_MIN: Final = 15
REQUEST_TIMEOUT_SECONDS: Final = 15

# Hub settings (entry.options of a hub entry)
CONF_HUB_NAME: Final = "hub_name"
CONF_RETENTION_DAYS: Final = "retention_days"
CONF_RED_TIER2_MIN: Final = "red_tier2_after"
CONF_RED_TIER3_MIN: Final = "red_tier3_after"
CONF_RED_REPEAT_MIN: Final = "red_repeat"
CONF_ORANGE_ESCALATE_MIN: Final = "orange_escalate_after"
CONF_RATE_BURST: Final = "rate_burst"
CONF_RATE_PER_MIN: Final = "rate_per_minute"
CONF_OFFLINE_AFTER_MIN: Final = "offline_after"
CONF_COLOUR_PREFIX: Final = "colour_"  # colour_<incident kind>: red / orange / yellow
# Home Assistant user ids who may use the duty desk besides the administrators.
CONF_DUTY_STAFF: Final = "duty_staff"
# Three sensors and a device per household on the hub (on by default). Off: a
# district hub saves about 70 KiB per household (2 000 households: +137 MiB with
# them, +5 MiB without; docs/benchmarks.md); the duty desk shows the same.
CONF_HOUSEHOLD_ENTITIES: Final = "household_entities"
DEFAULT_HOUSEHOLD_ENTITIES: Final = True
DEFAULT_RETENTION_DAYS: Final = 365
DEFAULT_RED_TIER2_MIN: Final = 2
DEFAULT_RED_TIER3_MIN: Final = 3
DEFAULT_RED_REPEAT_MIN: Final = 2
DEFAULT_ORANGE_ESCALATE_MIN: Final = 10
DEFAULT_RATE_BURST: Final = 120
DEFAULT_RATE_PER_MIN: Final = 60
# New alarms first: a message opening an incident the hub does not have yet may
# take the household's bucket this many tokens into debt (repaid before anything
# else passes, so the sustained rate is unchanged).
RATE_ALARM_RESERVE: Final = 10
DEFAULT_OFFLINE_AFTER_MIN: Final = 30
OFFLINE_STARTUP_GRACE_MIN: Final = 30
ACK_TARGET_SECONDS: Final = 60
# The duty desk (issue 21): sidebar panel and its static files.
DESK_PANEL_URL: Final = "silver-bell-desk"
DESK_STATIC_URL: Final = "/silver_bell_static"
DESK_ELEMENT: Final = "silver-bell-desk"
EVENT_NOTIFICATION_ACTION: Final = "mobile_app_notification_action"
