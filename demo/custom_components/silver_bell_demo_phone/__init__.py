"""A pretend phone for the Silver Bell demo (a legacy notify platform, see notify.py).

Demo only: the hub's volunteers have no companion app here, so their notify
services are these "phones", which show each push as a persistent notification
and a logbook entry of the hub's Home Assistant.
"""
