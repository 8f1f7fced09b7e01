"""The review console (bàn làm việc): ``console.app.create_app`` assembles one router per area.

Layout: ``app.py`` (the factory), ``deps.py`` (the viewer and state dependencies), ``security.py`` (headers, CSRF,
client address), ``pages.py`` (templates and common responses), and one package per area with its ``routes.py`` and
``templates/``: ``auth`` (login, logout), ``tasks`` (queue, task, claim/release/resolve/reopen), ``reviews`` (match
review), ``audit`` (audit log), ``export`` (Excel export).
"""
