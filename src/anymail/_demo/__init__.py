"""``anymail demo --esp NAME`` adapters: one module per ESP, named by its slug.

A module here defines:

- ``BACKEND``: the backend's dotted path;
- ``OPTIONS``: backend keyword arguments with dummy credentials;
- ``respond(request)``: a typical success answer from the ESP for the captured
  ``requests.PreparedRequest``, as ``(status_code, headers, body)``;
- optionally ``adapt(message)``: adjust the demo message to what the ESP can
  send (e.g. give it a ``template_id``);
- or, for a backend that does not use ``requests``, ``send(backend, message, out)``.
"""
