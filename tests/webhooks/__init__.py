"""The webhook views, one test module per ESP (the shared behaviour: contract/).

Unless a module says otherwise, its bodies are the ESP's fact sheet fixtures
(tests/fixtures/<esp>/), posted through anymail.testing's builders as the ESP posts
them: with basic auth, and signed where the ESP signs.
"""
