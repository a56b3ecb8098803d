"""Every error the pipeline raises on purpose, with its public exit code.

The tree (exit codes are public: the README lists them and scripts rely on them)::

    PipelineError                      1  something went wrong that has no better class
    ├── ConfigurationError             2  a setting is invalid (all problems reported at once)
    ├── MissingDependencyError         3  tesseract / poppler / a language pack is missing or too old
    ├── InputError                     4  one input file cannot be read (bad, truncated, too big ...)
    │   ├── EmptyFileError
    │   ├── UnsupportedFormatError
    │   ├── CorruptFileError
    │   ├── EncryptedFileError
    │   ├── NotRegularFileError        (a symbolic link, FIFO, device or socket)
    │   └── LimitExceededError         (size, pages, pixels, per-page timeout)
    ├── ModelError                     5  the classifier model file is missing or mismatched
    ├── PatientIndexError              6  a patient file or ADT message cannot be applied
    │   └── AdtError                      (one ADT message; the listener answers it with an AE ACK)
    ├── StorageError                   7  the object store or manifest failed
    │   └── IntegrityError             8  a stored object's hash does not match the manifest
    ├── NotFoundError                  9  a document / patient id given on the command line does not exist
    ├── AuditFailedError              10  `pipeline audit` found damage
    ├── ReviewDecisionError           11  a review decision breaks a rule: nothing was filed
    │   ├── DocumentTypeRequiredError     (no document type chosen, or one not in the type list)
    │   ├── BirthDateNotConfirmedError    (the patient's birth date is not the document's; confirm it)
    │   └── PageSurgeryError              (no such page, a split that leaves a part empty, no reason, ...)
    ├── PassingFaultError             12  a passing fault (database locked or unreachable, disk full,
    │   │                                 object store unreachable, an OCR process killed): the
    │   │                                 documents it hit are left where they were, undone
    │   └── StoreUnreachableError         (also a StorageError: the object store did not answer)
    └── AccountError                  13  a user account cannot be added or changed (name taken, unknown
                                          user, password too short)

Normal outcomes (needs review, duplicate, rejected, undone) are *values*, never exceptions: see
`pipeline.records.Outcome`. An `InputError` raised by a stage is turned into a `rejected`
outcome by the orchestrator, with the original kept in quarantine. A passing fault (this tree's
`PassingFaultError`, or a third-party error `pipeline.faults.passing_fault` recognises) is retried,
then turned into an `undone` outcome: the input stays where it was; `process` exits 12.

Messages name the file, what is wrong and what to do; they never carry PHI.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERRUPTED = 130


class PipelineError(Exception):
    """Base of every error the pipeline raises deliberately."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}; {self.hint}"
        return self.message


class ConfigurationError(PipelineError):
    """A setting is invalid. `problems` lists every one found, each with its fix."""

    exit_code = 2

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("invalid configuration: " + "; ".join(self.problems))


class MissingDependencyError(PipelineError):
    """An external program or data file is missing or too old."""

    exit_code = 3


class InputError(PipelineError):
    """One input cannot be processed. The orchestrator turns it into a `rejected` outcome."""

    exit_code = 4


class EmptyFileError(InputError):
    pass


class UnsupportedFormatError(InputError):
    pass


class CorruptFileError(InputError):
    pass


class EncryptedFileError(InputError):
    pass


class NotRegularFileError(InputError):
    """A symbolic link, FIFO, device or socket where a scan file was expected."""


class LimitExceededError(InputError):
    pass


class ModelError(PipelineError):
    exit_code = 5


class PatientIndexError(PipelineError):
    exit_code = 6


class AdtError(PatientIndexError):
    """An ADT message that cannot be applied; the listener answers it with an AE ACK."""


class StorageError(PipelineError):
    exit_code = 7


class IntegrityError(StorageError):
    exit_code = 8


class NotFoundError(PipelineError):
    exit_code = 9


class AuditFailedError(PipelineError):
    exit_code = 10


class ReviewDecisionError(PipelineError):
    """A clerk's decision on a review item that the review rules refuse; nothing was changed.
    The same rules hold for every door: `pipeline review resolve`, the browser, any later API."""

    exit_code = 11


class DocumentTypeRequiredError(ReviewDecisionError):
    """Filing needs a document type from the type list."""


class BirthDateNotConfirmedError(ReviewDecisionError):
    """The chosen patient's birth date is not the one on the document, and no one confirmed it."""

    def __init__(self, message: str, *, patient_id: int, patient_mrn: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.patient_id, self.patient_mrn = patient_id, patient_mrn


class PassingFaultError(PipelineError):
    """Something around the document failed for now (not the document): try it again later."""

    exit_code = 12


class StoreUnreachableError(PassingFaultError, StorageError):
    """The object store did not answer (connection refused or reset, timeout, a 5xx)."""


class AccountError(PipelineError):
    """A review-app user account cannot be added or changed; nothing was changed."""

    exit_code = 13


class PageSurgeryError(ReviewDecisionError):
    """A split, merge, rotation or dropped page that cannot be done as asked; nothing was changed."""


#: name -> exit code, for the README table and `pipeline doctor`.
EXIT_CODES: dict[str, int] = {
    "ok": EXIT_OK,
    PipelineError.__name__: PipelineError.exit_code,
    ConfigurationError.__name__: ConfigurationError.exit_code,
    MissingDependencyError.__name__: MissingDependencyError.exit_code,
    InputError.__name__: InputError.exit_code,
    ModelError.__name__: ModelError.exit_code,
    PatientIndexError.__name__: PatientIndexError.exit_code,
    StorageError.__name__: StorageError.exit_code,
    IntegrityError.__name__: IntegrityError.exit_code,
    NotFoundError.__name__: NotFoundError.exit_code,
    AuditFailedError.__name__: AuditFailedError.exit_code,
    ReviewDecisionError.__name__: ReviewDecisionError.exit_code,
    PassingFaultError.__name__: PassingFaultError.exit_code,
    AccountError.__name__: AccountError.exit_code,
    "interrupted": EXIT_INTERRUPTED,
}
