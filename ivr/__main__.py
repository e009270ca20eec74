"""``python -m ivr validate DIR | simulate FLOW | schema`` (the same as ``contact-gateway flows ...``)."""

from .cli import main

raise SystemExit(main())
