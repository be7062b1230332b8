"""Items kept beside a job, in its partition, that are neither the job nor its history.

| item | pk | sk |
| --- | --- | --- |
| cost estimate | ``JOB#<uuid>`` | ``COST`` |
| callback delivery | ``JOB#<uuid>`` | ``CB#<seq, 12 digits>`` (the seq of the change it tells) |

In the job's partition, so that deleting the job deletes them (the store clears the whole partition);
outside the job item, so that writing them neither moves the job's version (an event's optimistic lock)
nor makes a stream record the stream function would be invoked for (the template filters the stream to
``sk = JOB``). The history's reads (``EV#`` keys) never see them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from .. import clients
from ..config import Config
from .dynamodb import _translating
from .models import bind, job_pk, job_uuid

COST_SK = "COST"
DELIVERY_PREFIX = "CB#"


def delivery_sk(seq: int) -> str:
    return f"{DELIVERY_PREFIX}{seq:012d}"


@dataclass
class Delivery:
    """One notification of a job's change (``seq``) to its callback URL, and every attempt to deliver it:
    ``{"at", "status", "error"}`` each (``status`` None when no answer came)."""

    uuid: str
    seq: int
    kind: str
    url: str
    body: str
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@cache
def _models(table: str, host: str | None, region: str | None) -> tuple[type[Model], type[Model]]:
    """Models of the two items, with the same table, endpoint and settings as the store's (models.bind)."""
    settings = {k: v for k, v in vars(bind(table, host, region).job.Meta).items() if not k.startswith("__")}

    class CostItem(Model):
        Meta = type("Meta", (), settings)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        estimate = JSONAttribute()

    class DeliveryItem(Model):
        Meta = type("Meta", (), settings)
        pk = UnicodeAttribute(hash_key=True)
        sk = UnicodeAttribute(range_key=True)
        uuid = UnicodeAttribute()
        seq = NumberAttribute()
        kind = UnicodeAttribute()
        url = UnicodeAttribute()
        body = UnicodeAttribute()
        attempts = JSONAttribute(default=list)
        delivered = BooleanAttribute(default=False)

    return CostItem, DeliveryItem


class Annex:
    """Reads and writes of a job's cost estimate and callback deliveries."""

    def __init__(self, config: Config):
        self.Cost, self.Delivery = _models(config.table, config.endpoint_url, config.region)
        client = clients.client("dynamodb", region=config.region, endpoint_url=config.endpoint_url)
        for model in (self.Cost, self.Delivery):  # the one client of clients.py, as the store's models
            model._get_connection().connection._client = client

    @_translating
    def put_cost(self, uuid: str, estimate: dict[str, Any]) -> None:
        self.Cost(pk=job_pk(uuid), sk=COST_SK, estimate=estimate).save()

    @_translating
    def get_cost(self, uuid: str) -> dict[str, Any] | None:
        try:
            return self.Cost.get(job_pk(uuid), COST_SK).estimate
        except DoesNotExist:
            return None

    @_translating
    def costs(self, uuids: list[str]) -> dict[str, dict[str, Any]]:
        """The estimates of ``uuids`` that have one (BatchGetItem, 100 keys a request)."""
        items = self.Cost.batch_get([(job_pk(uuid), COST_SK) for uuid in dict.fromkeys(uuids)])
        return {job_uuid(item.pk): item.estimate for item in items}

    @_translating
    def put_delivery(self, delivery: Delivery) -> None:
        self.Delivery(pk=job_pk(delivery.uuid), sk=delivery_sk(delivery.seq), uuid=delivery.uuid, seq=delivery.seq,
                      kind=delivery.kind, url=delivery.url, body=delivery.body, attempts=delivery.attempts,
                      delivered=delivery.delivered).save()

    @_translating
    def get_delivery(self, uuid: str, seq: int) -> Delivery | None:
        try:
            return _delivery(self.Delivery.get(job_pk(uuid), delivery_sk(seq), consistent_read=True))
        except DoesNotExist:
            return None

    @_translating
    def deliveries(self, uuid: str) -> list[Delivery]:
        """Every delivery of the job, oldest change first."""
        items = self.Delivery.query(job_pk(uuid), self.Delivery.sk.startswith(DELIVERY_PREFIX), consistent_read=True)
        return [_delivery(item) for item in items]


def _delivery(item: Any) -> Delivery:
    return Delivery(uuid=item.uuid, seq=int(item.seq), kind=item.kind, url=item.url, body=item.body,
                    attempts=list(item.attempts or []), delivered=bool(item.delivered))


@cache
def get_annex(config: Config) -> Annex:
    """The annex for ``config``, one per configuration (as ``service.get_store``)."""
    return Annex(config)
