"""One error base: the workbook's, the mailbox's and the service's errors are caught as one."""

from __future__ import annotations

import pytest

from addin.errors import ActionableError, UsageError, WorkbookLockedError, XlcrmError
from sync.errors import ActionableError as SyncActionableError
from sync.mailbox import MailboxError, parse_url


def test_the_base_lives_in_sync_and_addin_names_the_same_class() -> None:
    assert ActionableError is SyncActionableError
    assert issubclass(XlcrmError, ActionableError)
    assert issubclass(MailboxError, ActionableError)


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (
            WorkbookLockedError("crm.xlsx", "Excel has the workbook open", "close it"),
            "crm.xlsx: Excel has the workbook open\n  hint: close it",
        ),
        (UsageError(None, "say which deals"), "say which deals"),
        (
            MailboxError("imaps://a@b.cn", "login refused", "check the password", temporary=True),
            "imaps://a@b.cn: login refused\n  hint: check the password",
        ),
    ],
)
def test_every_error_says_where_what_and_what_to_do_the_same_way(
    error: ActionableError, text: str
) -> None:
    with pytest.raises(ActionableError) as caught:
        raise error
    assert str(caught.value) == text
    assert caught.value.as_dict() == {
        "where": error.where,
        "message": error.message,
        "hint": error.hint,
    }


def test_a_bad_mailbox_url_is_caught_as_the_one_base() -> None:
    with pytest.raises(ActionableError) as caught:
        parse_url("gopher://x")
    assert caught.value.where == "gopher://x"
    assert caught.value.exit_code == 1


def test_the_service_input_error_has_the_same_fields() -> None:
    from addin.service.app import InputError

    error = InputError("the request is too large", hint="select fewer rows", status=413)
    assert isinstance(error, ActionableError)
    assert (error.where, error.message, error.hint, error.status) == (
        None,
        "the request is too large",
        "select fewer rows",
        413,
    )
    assert str(error) == "the request is too large\n  hint: select fewer rows"
