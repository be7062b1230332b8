"""The dashboard (``/ui``): what a person sees of every job, as the webhook's HTTP API serves it.

``views`` builds the JSON the page reads (from the table's indexes, never a Scan); ``static/`` is the page
itself, plain HTML, CSS and JavaScript shipped inside the package (no CDN, no download at run time);
``pipelinejobs.api.dashboard`` serves both, behind a viewer's or an admin's token.
"""
