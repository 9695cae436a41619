"""Print every task's outcome as JSON lines: ``python -m tests.queued_e2e.report``."""

import json
import os

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.queued_e2e.settings")
    django.setup()
    from django_tasks_db.models import DBTaskResult

    for row in DBTaskResult.objects.all():
        print(
            json.dumps(
                {
                    "subject": row.args_kwargs["args"][0]["fields"]["subject"],
                    "status": row.status,
                    "return_value": row.return_value,
                    "exception": row.exception_class_path,
                    "workers": row.worker_ids,
                }
            )
        )


if __name__ == "__main__":
    main()
