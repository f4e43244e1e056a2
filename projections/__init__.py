"""Read models built from the published Referral events on ``KS_EVENTS``.

Each view module holds pure event -> row logic; the ``*_view`` modules hold its SQL and the
read API the HTTP adapter calls. ``store`` defines the small database interface and the
tracking (checkpoint) table shared by all views.
"""
