"""Masking on the server (apps.ticket.masking) and on the agent (Masker, LogShipper): plain values,
each line of a multi-line value (a value printed split across lines), base64 and URL-encoded forms."""

import base64
import urllib.parse

import pytest

from agent import devops_agent as agent
from apps.ticket.masking import SecretMask, flat_values
from apps.ticket.references import ALL, names_in, plan_job_references

TOKEN = "tok/en+with spaces&symbols=42"
KEY = "-----BEGIN KEY-----\nAAAAfirstlineofthekey\nBBBBsecondlineofthekey\n-----END KEY-----"


def leaking_lines() -> list[str]:
    return [
        f"plain {TOKEN} end",
        f"b64 {base64.b64encode(TOKEN.encode()).decode()}",
        f"prefixed b64 {base64.b64encode(b'user:' + TOKEN.encode()).decode()}",
        f"urlsafe {base64.urlsafe_b64encode(b'xy' + TOKEN.encode()).decode()}",
        f"url {urllib.parse.quote(TOKEN, safe='')}",
        f"form {urllib.parse.quote_plus(TOKEN)}",
        *[f"key> {line}" for line in KEY.split("\n")[1:3]],
    ]


@pytest.fixture(params=["server", "agent"])
def mask_texts(request):
    if request.param == "server":
        return SecretMask([TOKEN, KEY]).mask_texts
    return agent.Masker([TOKEN, KEY]).mask_texts


def test_every_form_is_masked(mask_texts):
    masked = mask_texts(leaking_lines() + ["nothing secret here"])
    assert masked[-1] == "nothing secret here"
    for line in masked[:-1]:
        assert "***" in line, line
    text = "\n".join(masked)
    assert TOKEN not in text and "firstlineofthekey" not in text and "secondlineofthekey" not in text
    assert base64.b64encode(TOKEN.encode()).decode()[:-4] not in text


def test_a_text_with_newlines_is_masked_line_by_line_too():
    assert SecretMask([KEY]).mask("x\n" + KEY + "\ny") == "x\n***\ny"
    assert agent.Masker([KEY]).mask("x\n" + KEY + "\ny") == "x\n***\ny"
    assert SecretMask([TOKEN]).mask_texts(["a\nb", TOKEN]) == ["a\nb", "***"]


def test_flat_values_takes_every_field_of_multi_part_credentials():
    assert flat_values({"A": "x", "B": {"username": "u", "password": "p", "empty": ""}}) == ["p", "u", "x"]


def test_agent_shipper_masks_each_batch_before_sending_and_add_mask_applies_to_later_batches(tmp_path):
    sent = []
    masker = agent.Masker([TOKEN])
    shipper = agent.LogShipper(
        lambda batch: sent.append(batch) or {},
        str(tmp_path / "spool"),
        batch_lines=3,
        interval=0.01,
        mask_texts=masker.mask_texts,
    ).start()
    for line in leaking_lines()[:6]:
        shipper.add(line)
    masker.add("registered-later-1234")
    shipper.add("now registered-later-1234 appears")
    assert shipper.close(timeout=10)
    texts = [line["text"] for batch in sent for line in batch]
    assert len(texts) == 7 and all("***" in text for text in texts)
    assert not any(TOKEN in text or "registered-later" in text for text in texts)


def test_references_in_templates_and_conditions_only():
    job = {
        "id": "deploy",
        "env": {"A": "${{ secrets.ONE }}", "B": "echo secrets.NOT_A_REF"},
        "steps": [
            {
                "run": "x ${{ secrets['TWO'] }} ${{ toJSON(secrets.THREE.username) }}",
                "if": "secrets.FOUR != ''",
            }
        ],
    }
    plan = {
        "env": {"G": "${{ secrets.GLOBAL }}"},
        "stages": [{"jobs": [job, {"id": "other", "env": {"X": "${{ secrets.OTHER }}"}}]}],
    }
    assert plan_job_references(plan, "deploy") == {"ONE", "TWO", "THREE", "FOUR", "GLOBAL"}
    assert names_in({"run": "${{ toJSON(secrets) }}"}) == {ALL}
