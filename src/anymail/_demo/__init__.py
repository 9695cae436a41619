"""``anymail demo --esp NAME`` adapters: one module per ESP, named by its slug.

A module here defines:

- ``BACKEND``: the backend's dotted path;
- ``OPTIONS``: backend keyword arguments with dummy credentials;
- ``ADAPTED``: what the demo changes in its message for this ESP, in a
  sentence the demo prints ("none" when nothing);
- ``respond(request)``: a typical success answer from the ESP for the captured
  ``requests.PreparedRequest``, as ``(status_code, headers, body)``;
- optionally ``adapt(message)``: adjust the demo message to what the ESP can
  send (e.g. give it a ``template_id``), in place, or return the messages to
  send instead of it;
- for a backend that does not use ``requests``, ``open_captured(backend)``
  (open it with its API calls recorded and answered locally; return the list
  they are recorded in) and ``describe(backend, captured)`` (one call, printed).
"""
