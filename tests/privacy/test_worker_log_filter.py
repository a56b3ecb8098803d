"""The worker's log filter on Celery's own success and failure lines (fast; the real worker: test_logs.py)."""

from __future__ import annotations

import logging

from celery.app.trace import LOG_FAILURE, LOG_SUCCESS

from pipeline.celery_app import WithholdPatientData


def _logged(message: str, args: dict, exc: BaseException | None = None) -> str:
    logger = logging.getLogger("celery.app.trace")
    record = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, message, (args,),
                               (type(exc), exc, None) if exc else None)
    assert WithholdPatientData().filter(record)
    return logging.Formatter("%(message)s").format(record)


def test_a_success_line_keeps_the_task_and_drops_its_result() -> None:
    result = "{'source': '/in/REID_BARBARA_19980510.png', 'patient_mrn': '75826275'}"
    line = _logged(LOG_SUCCESS, {"name": "pipeline.process_document", "id": "t1", "runtime": 1.5,
                                 "return_value": result})
    assert line.startswith("Task pipeline.process_document[t1] succeeded in 1.5s")
    assert "REID" not in line and "75826275" not in line


def test_a_failure_line_names_the_error_type_without_its_text_or_traceback() -> None:
    error = FileNotFoundError(2, "No such file or directory", "/in/REID_BARBARA_19980510.png")
    line = _logged(LOG_FAILURE, {"name": "pipeline.process_document", "id": "t2", "description": "raised unexpected",
                                 "exc": repr(error)}, error)
    assert line == "Task pipeline.process_document[t2] raised unexpected: FileNotFoundError"
