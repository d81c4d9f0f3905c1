"""Merge two duplicate customers of one rooftop into one, keeping all their history.

Every row of any app that points at the merged customer moves to the kept one: each reverse foreign
key to Customer (``Customer._meta``, hidden ones such as the reveal log included, so an app added
later is covered without crm importing it), and each generic reference to the customer (a
``<name>_type``/``<name>_id`` pair or a GenericForeignKey, e.g. a follow-up about the customer).
A row that a unique rule allows once per customer and that the kept customer already has (this
year's birthday greeting, a live promise of the same kind about them) is a duplicate and is dropped,
and counted; a one-to-one row both customers have refuses the merge.
The kept customer's blank fields are filled from the merged one (see ``fill_plan``), its notes say
who merged whom and when, and the merged customer is then **deleted**: the records cannot mark a
customer as a redirect, and after the move nothing refers to it (a leftover reference would stop
the delete and roll the whole merge back).

It is one transaction with both customers locked (in id order, so two merges of one pair wait for
each other instead of deadlocking; the second then finds the merged customer gone: a 404).
Refused with a message and nothing changed: a customer merged with itself, two rooftops' customers,
a stale version, and without ``crm.change_customer`` at the customers' rooftop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from dms.errors import Conflict

from .models import Customer, User
from .querysets import user_may

# Copied from the merged customer when the kept one has none.
BLANK_FILLED = ("salutation", "email", "address", "id_number", "born_on", "owner")


@dataclass(frozen=True)
class Relation:
    """A foreign key of some app's model that points at Customer."""

    model: type[models.Model]
    field_name: str
    label: str
    one_to_one: bool = False

    @property
    def key(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field_name}"


def customer_relations() -> list[Relation]:
    """Every foreign key and one-to-one to Customer in the installed apps, hidden ones included."""
    relations = []
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        model, fk = rel.related_model, rel.field
        label = capfirst(model._meta.verbose_name_plural)
        to_customer = [f for f in model._meta.concrete_fields if f.is_relation and f.related_model is Customer]
        if len(to_customer) > 1:
            label = f"{label} ({fk.verbose_name})"
        relations.append(Relation(model, fk.name, str(label), rel.one_to_one))
    return sorted(relations, key=lambda relation: relation.key)


def generic_references() -> list[tuple[type[models.Model], str, str]]:
    """(model, content type field, object id field) of every generic reference in the installed apps."""
    found = []
    for model in apps.get_models():
        pairs = {(f.ct_field, f.fk_field) for f in model._meta.private_fields if isinstance(f, GenericForeignKey)}
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is ContentType and f.name.endswith("_type"):
                try:
                    object_id = model._meta.get_field(f"{f.name[:-5]}_id")
                except FieldDoesNotExist:
                    continue
                if not object_id.is_relation:
                    pairs.add((f.name, object_id.name))
        found += [(model, ct_field, fk_field) for ct_field, fk_field in sorted(pairs)]
    return found


def fill_plan(kept: Customer, merged: Customer) -> dict:
    """The kept customer's fields the merged one fills (field → new value): blanks, the contact window
    when the kept one has none, the consent given on the merged record with its time, the phones
    (a missing mobile, then another phone from the numbers not already on file), and the tags' union."""
    plan: dict = {}
    if not kept.mobile and merged.mobile:
        plan["mobile"] = merged.mobile
    numbers = {plan.get("mobile", kept.mobile), kept.other_phone} - {""}
    spare = [number for number in (merged.mobile, merged.other_phone) if number and number not in numbers]
    if not kept.other_phone and spare:
        plan["other_phone"] = spare[0]
    for name in BLANK_FILLED:
        attname = Customer._meta.get_field(name).attname
        if getattr(kept, attname) in (None, "") and getattr(merged, attname) not in (None, ""):
            plan[attname] = getattr(merged, attname)
    if kept.contact_from is None and merged.contact_from is not None:
        plan["contact_from"], plan["contact_until"] = merged.contact_from, merged.contact_until
    if not kept.marketing_consent and merged.marketing_consent:
        plan["marketing_consent"], plan["marketing_consent_at"] = True, merged.marketing_consent_at
    extra_tags = [tag for tag in merged.tags if tag not in kept.tags]
    if extra_tags:
        plan["tags"] = [*kept.tags, *extra_tags]
    return plan


def values_not_kept(kept: Customer, merged: Customer) -> dict:
    """The merged customer's values that differ from what the kept one will hold (shown before
    confirming; email and address also go into the notes, phone and ID numbers do not)."""
    plan = fill_plan(kept, merged)
    final = {name: plan.get(name, getattr(kept, name)) for name in ("full_name", "email", "address", "id_number")}
    numbers = {plan.get("mobile", kept.mobile), plan.get("other_phone", kept.other_phone)}
    lost = {
        name: getattr(merged, name) for name in final if getattr(merged, name) and getattr(merged, name) != final[name]
    }
    phones = [number for number in (merged.mobile, merged.other_phone) if number and number not in numbers]
    if phones:
        lost["phones"] = phones
    return lost


@dataclass
class MergeResult:
    """What a merge did: the kept customer, the rows moved per relation, the fields filled."""

    customer: Customer
    merged_id: int
    merged_name: str
    moved: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)  # duplicates the kept customer already had
    filled: list[str] = field(default_factory=list)

    def count(self, label: str, moved: int, dropped: int) -> None:
        if moved:
            self.moved[label] = self.moved.get(label, 0) + moved
        if dropped:
            self.dropped[label] = self.dropped.get(label, 0) + dropped


def _lock_pair(*, actor: User, keep_id: int, merge_id: int) -> tuple[Customer, Customer]:
    rows = {
        customer.pk: customer
        for customer in Customer.objects.for_user(actor, "change")
        .select_for_update(of=("self",))
        .select_related("dealership")
        .filter(pk__in=[keep_id, merge_id])
        .order_by("pk")
    }
    if keep_id not in rows or merge_id not in rows:
        raise Customer.DoesNotExist(_("No such customer at your dealerships (it may just have been merged)."))
    return rows[keep_id], rows[merge_id]


def _repoint(rows: QuerySet, **change) -> tuple[int, int]:
    """Update ``rows`` to point at the kept customer: (moved, dropped). A row a unique rule allows once
    per customer, which the kept customer already has (this year's birthday greeting, a live promise
    of the same kind about them), is a duplicate: it is deleted, each row tried in its own savepoint."""
    try:
        with transaction.atomic():
            return rows.update(**change), 0
    except IntegrityError:
        pass
    moved = dropped = 0
    for pk in list(rows.values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                moved += rows.model._base_manager.filter(pk=pk).update(**change)
        except IntegrityError:
            rows.model._base_manager.filter(pk=pk).delete()
            dropped += 1
    return moved, dropped


def _merge_note(*, kept: Customer, merged: Customer, actor: User) -> str:
    lines = [
        _("Merged with %(name)s (#%(id)s) on %(day)s by %(actor)s.")
        % {
            "name": merged.full_name,
            "id": merged.pk,
            "day": timezone.localdate(timezone.now(), kept.dealership.zone).isoformat(),
            "actor": actor,
        }
    ]
    not_kept = values_not_kept(kept, merged)
    for name in ("full_name", "email", "address"):
        if name in not_kept:
            label = capfirst(Customer._meta.get_field(name).verbose_name)
            lines.append(_("Their %(field)s: %(value)s") % {"field": label.lower(), "value": not_kept[name]})
    if merged.notes:
        lines.append(merged.notes)
    return "\n".join(lines)


@transaction.atomic
def customer_merge(
    *,
    actor: User,
    keep_id: int,
    merge_id: int,
    keep_version: int | None = None,
    merge_version: int | None = None,
) -> MergeResult:
    """Move everything of customer ``merge_id`` to ``keep_id``, fill the kept one's blanks, delete the
    merged one: all or nothing, both rows locked. The versions, when given, are the ones the actor
    compared; a change since then is a Conflict."""
    if not user_may(actor, "change", Customer):
        raise PermissionDenied(_("You may not change customers."))
    if int(keep_id) == int(merge_id):
        raise ValidationError(_("A customer cannot be merged with itself."), code="same")
    kept, merged = _lock_pair(actor=actor, keep_id=int(keep_id), merge_id=int(merge_id))
    if kept.dealership_id != merged.dealership_id:
        raise ValidationError(
            _("%(kept)s and %(merged)s are customers of different dealerships; each keeps its own records.")
            % {"kept": kept.full_name, "merged": merged.full_name},
            code="rooftops",
        )
    for customer, version in ((kept, keep_version), (merged, merge_version)):
        if version is not None and version != customer.version:
            raise Conflict(
                _("%(name)s was changed since you compared them; compare again."),
                code="stale",
                params={"name": customer.full_name},
            )

    result = MergeResult(customer=kept, merged_id=merged.pk, merged_name=merged.full_name)
    for relation in customer_relations():
        rows = relation.model._base_manager.filter(**{relation.field_name: merged.pk})
        if (
            relation.one_to_one
            and rows.exists()
            and relation.model._base_manager.filter(**{relation.field_name: kept.pk}).exists()
        ):
            raise ValidationError(
                _("Both customers have %(what)s, which a customer has only one of; resolve that first.")
                % {"what": relation.label.lower()},
                code="one_to_one",
            )
        result.count(relation.label, *_repoint(rows, **{relation.field_name: kept.pk}))
    content_type = ContentType.objects.get_for_model(Customer)
    for model, ct_field, id_field in generic_references():
        rows = model._base_manager.filter(**{ct_field: content_type, id_field: merged.pk})
        label = f"{capfirst(model._meta.verbose_name_plural)} ({_('about the customer')})"
        result.count(label, *_repoint(rows, **{id_field: kept.pk}))

    plan = fill_plan(kept, merged)
    note = _merge_note(kept=kept, merged=merged, actor=actor)
    merged.delete()  # first: the kept customer may take over its mobile (unique per rooftop)
    for attname, value in plan.items():
        setattr(kept, attname, value)
    kept.notes = f"{kept.notes}\n\n{note}" if kept.notes else note
    kept.version += 1  # the row is locked, so this cannot lose a concurrent increment
    kept.updated_by = actor
    kept.save(update_fields=[*plan, "notes", "version", "updated_by", "updated_at"])
    result.filled = [Customer._meta.get_field(name.removesuffix("_id")).name for name in plan]
    return result


def with_related_counts(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """Annotate ``related_<n>`` for the n-th of ``customer_relations()``: each a correlated count, all
    in the one statement (the merge page's side-by-side)."""
    counts = {}
    for index, relation in enumerate(customer_relations()):
        rows = (
            relation.model._base_manager.filter(**{relation.field_name: OuterRef("pk")})
            .order_by()
            .values(relation.field_name)
            .annotate(n=Count("pk"))
            .values("n")
        )
        counts[f"related_{index}"] = Coalesce(Subquery(rows), 0)
    return customers.annotate(**counts)
