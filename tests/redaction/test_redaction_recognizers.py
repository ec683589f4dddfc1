"""Each recognizer has true-positive and false-positive cases, through the real engine."""

from __future__ import annotations

import pytest

from redaction import Redactor

TRUE = [
    ("EMAIL_ADDRESS", "write to jane.doe@example.com today"),
    ("PHONE_NUMBER", "call +44 20 7946 0958 now"),
    ("PHONE_NUMBER", "call +1-202-555-0143 now"),
    ("PHONE_NUMBER", "ring (225)985-1781x28657 please"),
    ("PHONE_NUMBER", "mobile 5492996228"),
    ("PHONE_NUMBER", "tel +49(0)1152449390"),
    ("PHONE_NUMBER", "tel +33 (0)2 34 15 24 49"),
    ("PHONE_NUMBER", "tel 001-238-883-6859x57489"),
    ("PHONE_NUMBER", "tel +81 3-1234-5678"),
    ("CREDIT_CARD", "card 4111 1111 1111 1111 exp 12/27"),
    ("CREDIT_CARD", "mc 2223003122003222"),
    ("CREDIT_CARD", "amex 3782-822463-10005"),
    ("CREDIT_CARD", "visa19 4982597919074833786 here"),  # 19-digit Visa
    ("CREDIT_CARD", "jcb 3530111333300000"),
    ("CREDIT_CARD", "discover 6011111111111117"),
    # After a word and a dot (a Core app's topic "orders.<card>") or a comma (a CSV field), the
    # lookbehind meant for decimals and number lists kept these whole.
    ("CREDIT_CARD", "orders.4111111111111111"),
    ("CREDIT_CARD", "id,card,exp\n1001,4111111111111111,12/29"),
    # Phone URIs: the ':' or '/' before the number hid it from the phone pattern.
    ("PHONE_NUMBER", "[Call us](tel:+14155550132)"),
    ("PHONE_NUMBER", '<a href="tel:+1-415-555-0132">call</a>'),
    ("PHONE_NUMBER", "text sms:+447911123456 or"),
    ("PHONE_NUMBER", "chat on https://wa.me/14155550132"),
    ("IBAN_CODE", "IBAN DE89 3704 0044 0532 0130 00"),
    ("IBAN_CODE", "iban GB82WEST12345698765432."),
    ("IBAN_CODE", "send to NO9386011117947"),
    ("IBAN_CODE", "to BR1800360305000010009795493C1 ok"),
    ("IP_ADDRESS", "host 10.1.2.3 down"),
    ("IP_ADDRESS", "v6 2001:db8::8a2e:370:7334 up"),
    ("API_KEY", "key sk-proj-AbC123def456GHI789jklmnop"),
    ("API_KEY", "key sk-ant-api03-AbCdEf1234567890_xyzXYZ-abcdefgh"),
    ("API_KEY", "id AKIAIOSFODNN7EXAMPLE"),
    ("API_KEY", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("API_KEY", "token ghp_1234567890abcdefghijklmnopqrstuvwxyzAB"),
    ("API_KEY", "slack xoxb-123456789012-abcdefghijkl"),
    (
        "JWT",
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    ("AUTH_HEADER", "Authorization: Bearer abc123def456ghi789jkl"),
    ("AUTH_HEADER", "Authorization: Basic dXNlcjpwYXNzd29yZA=="),
    ("PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"),
    ("PASSWORD", "dsn postgres://app:s3cr3tPass@db.internal:5432/app"),
    ("PASSWORD", "Server=db;User Id=sa;Password=Hunter2!;"),
    ("PERSON", "Please ask Dr. Maria Gonzalez about it"),
    ("PERSON", "Hi, my name is Jonathan Pearson."),
    ("LOCATION", "ship it to 391 Johnson Burg Apt. 636, New Jeffreymouth, NM 72965"),
    ("LOCATION", "she lives in Berlin"),
]

FALSE = [
    "we use scikit-learn and sk-learn-style pipelines in the task-manager module",
    "version 3.11.7 released on 2024-01-05 at 12:30:45",
    "order ORD-1234567 total 1,234.56 EUR, epoch 1718031234",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 merged",
    "the bearer of bad news arrived; basic income is debated",
    "set password=<redacted> and token: ${API_TOKEN}",
    "uuid 123e4567-e89b-12d3-a456-426614174000 logged",
    "HTTP 404 on port 8080, retry 3 of 5",
    "the number 1234567890123456 is not a card",
    "probability 0.4111111111111111 and 3.4111111111111111e-05",
    "GB82WEST12345698765433 has a bad checksum",
    "AKIA is a prefix; eyJ alone is not a JWT",
]


@pytest.mark.parametrize(("entity", "text"), TRUE)
def test_redaction_true_positive(pattern_redactor: Redactor, redactor: Redactor, entity: str, text: str) -> None:
    r = redactor if entity in {"PERSON", "LOCATION"} else pattern_redactor
    out = r.redact_text(text)
    assert out.status == "ok"
    assert f"<{entity}>" in out.value, out.value
    assert out.counts.get(entity, 0) >= 1


@pytest.mark.parametrize("text", FALSE)
def test_redaction_false_positive(pattern_redactor: Redactor, text: str) -> None:
    out = pattern_redactor.redact_text(text)
    assert out.value == text, out.value
    assert out.counts == {}


def test_redaction_secret_value_not_left_behind(pattern_redactor: Redactor) -> None:
    out = pattern_redactor.redact_text("export OPENAI_API_KEY=sk-proj-AbC123def456GHI789jklmnop")
    assert "AbC123" not in out.value
