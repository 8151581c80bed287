"""Messages: subject and body from the editable templates (a MessageTemplate row for the trigger and
channel, else the files in templates/notify/messages/), rendered without HTML escaping with the
build's facts; and the JSON body each HTTP channel posts."""

import logging
import re

from django.template import Context, Engine
from django.template.loader import select_template

from apps.notify.choices import Channel, Trigger
from apps.notify.models import Delivery, MessageTemplate

logger = logging.getLogger(__name__)
TEMPLATE_DIR = "notify/messages"
SUBJECT_CHARS = 300
WECOM_MAX_BYTES = 4096
BLANK_LINES = re.compile(r"\n{3,}")


def default_sources(trigger: str, channel: str) -> tuple[str, str]:
    """The file defaults: the most specific of `<trigger>.<channel>.`, `<trigger>.`, `<channel>.`, none."""

    def source(part: str) -> str:
        names = [
            f"{TEMPLATE_DIR}/{trigger}.{channel}.{part}.txt",
            f"{TEMPLATE_DIR}/{trigger}.{part}.txt",
            f"{TEMPLATE_DIR}/{channel}.{part}.txt",
            f"{TEMPLATE_DIR}/{part}.txt",
        ]
        return select_template(names).template.source

    return source("subject"), source("body")


def template_sources(trigger: str, channel: str) -> tuple[str, str]:
    row = MessageTemplate.objects.filter(trigger=trigger, channel=channel).first()
    if row is not None:
        return row.subject, row.body
    return default_sources(trigger, channel)


def compile_text(source: str):
    """A Django template string compiled to render as plain text (no HTML escaping); raises
    TemplateSyntaxError on a bad one."""
    return Engine.get_default().from_string("{% autoescape off %}" + source + "{% endautoescape %}")


def render_text(source: str, context: dict) -> str:
    return compile_text(source).render(Context(context))


def message_context(facts: dict, *, trigger: str, channel: str, content: str = "") -> dict:
    return {
        **facts,
        "trigger": trigger,
        "trigger_label": Trigger(trigger).label,
        "channel": channel,
        "content": content,
    }


def clean_subject(text: str) -> str:
    return " ".join(text.split())[:SUBJECT_CHARS]


def clean_body(text: str) -> str:
    return BLANK_LINES.sub("\n\n", text.strip("\n")).rstrip() + "\n"


def render_message(facts: dict, *, trigger: str, channel: str, subject: str = "", content: str = "") -> tuple:
    """(subject, body); a notice's own title replaces the subject, its content leads the body. An
    edited template that fails to render falls back to the file default."""
    context = message_context(facts, trigger=trigger, channel=channel, content=content)
    subject_source, body_source = template_sources(trigger, channel)
    try:
        rendered = render_text(subject_source, context), render_text(body_source, context)
    except Exception as error:  # an admin's template must not stop the notification
        logger.warning("template %s/%s does not render (%s); using the default", trigger, channel, error)
        subject_source, body_source = default_sources(trigger, channel)
        rendered = render_text(subject_source, context), render_text(body_source, context)
    return clean_subject(subject or rendered[0]), clean_body(rendered[1])


def cut_utf8(text: str, limit: int) -> str:
    data = text.encode()
    return text if len(data) <= limit else data[:limit].decode(errors="ignore")


def webhook_payload(delivery: Delivery) -> dict:
    facts = delivery.facts
    return {
        "delivery": delivery.id,
        "event": delivery.event,
        "trigger": delivery.trigger,
        "title": delivery.subject,
        "text": delivery.body,
        "project": facts.get("project"),
        "pipeline": facts.get("pipeline"),
        "build": facts.get("build"),
        "stage": facts.get("stage"),
        "failing_step": facts.get("failing_step"),
    }


def http_payload(delivery: Delivery) -> dict:
    if delivery.channel == Channel.SLACK:
        return {"text": delivery.body}
    if delivery.channel == Channel.WECOM:
        return {"msgtype": "markdown", "markdown": {"content": cut_utf8(delivery.body, WECOM_MAX_BYTES)}}
    return webhook_payload(delivery)
