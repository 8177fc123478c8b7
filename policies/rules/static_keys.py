"""Static credentials: none, but for one named exception.

The cell creates no IAM users, access keys or service-account keys: workloads use IRSA roles and Workload Identity.
The one exception is the object-storage key of Gitpod builds that read object storage with nothing else (e.g.
release-2022.11.3): an IAM user (AWS) or an HMAC key's service account (GCP) marked
`gitpod-cell-purpose: object-storage-static-key` (a tag, or the service account's description), which
`static-storage-key-limited-to-one-bucket` then holds to one bucket's objects. Any other user, key or HMAC key fails,
and so does a marked holder that can reach anything else.
"""

from __future__ import annotations

from typing import Any

from policies.core import iam
from policies.core.props import as_list, as_mapping, get, known
from policies.core.rule import Report, stack_rule
from policies.core.stack import StackView, dependency_urns
from policies.rules.tokens import GCP_IAM_MEMBERS, IAM_ACCESS_KEY, IAM_USER_TYPES

PURPOSE_TAG = "gitpod-cell-purpose"
PURPOSE = "object-storage-static-key"
IAM_USER = "aws:iam/user:User"
IAM_USER_POLICY = "aws:iam/userPolicy:UserPolicy"
HMAC_KEY = "gcp:storage/hmacKey:HmacKey"
SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account"
# What the key may do: the objects of one bucket, listing that bucket, and the bucket's KMS key through S3.
S3_OBJECT_ACTIONS = frozenset({"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                               "s3:ListMultipartUploadParts"})
S3_BUCKET_ACTIONS = frozenset({"s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"})
KMS_ACTIONS = frozenset({"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"})
GCS_BUCKET_ROLES = frozenset({"roles/storage.objectAdmin", "roles/storage.legacyBucketReader"})
BUCKET_IAM_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"


def is_marked_user(user: Any) -> bool:
    tags = as_mapping(get(user.props, "tags"))
    return tags.get(PURPOSE_TAG) == PURPOSE and get(user.props, "path") == "/gitpod-cell/"


def is_marked_account(account: Any) -> bool:
    return f"{PURPOSE_TAG}: {PURPOSE}" in str(get(account.props, "description") or "")


def _owned_by(view: StackView, owners: list[Any], candidate: Any, key: str, owner_key: str) -> Any | None:
    """The owner (of `owners`) `candidate` names by `key` (== owner's `owner_key`), or depends on."""
    value = known(candidate.props, key)
    for owner in owners:
        if value is not None and value == known(owner.props, owner_key):
            return owner
    deps = dependency_urns(candidate)
    matches = [owner for owner in owners if str(owner.urn) in deps]
    return matches[0] if len(matches) == 1 else None


@stack_rule(
    name="aws-no-iam-users",
    summary="The cell creates no IAM users (or their policies and logins); workloads use IRSA roles. The one "
    "exception is the marked object-storage key holder and its one inline policy (see "
    "static-storage-key-limited-to-one-bucket).",
    control="CKV_AWS_273",
)
def no_iam_users(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    marked = [user for user in view.of_type(IAM_USER) if is_marked_user(user)]
    for resource in view.of_type(*IAM_USER_TYPES):
        if resource in marked:
            continue
        if resource.resource_type == IAM_USER_POLICY and _owned_by(view, marked, resource, "user", "name"):
            continue
        report(f"{resource.resource_type.rsplit(':', 1)[-1]} resources are not allowed; use an IAM role (IRSA) "
               "instead.", resource.urn)


@stack_rule(
    name="aws-no-access-keys",
    summary="The cell creates no IAM access keys, but for the one key of the marked object-storage key holder.",
    control="AWS FSBP IAM.3 (stricter: no keys but the one exception)",
)
def no_access_keys(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    marked = [user for user in view.of_type(IAM_USER) if is_marked_user(user)]
    for key in view.of_type(IAM_ACCESS_KEY):
        if _owned_by(view, marked, key, "user", "name") is None:
            report("static access keys are not allowed; use an IAM role (IRSA) instead.", key.urn)


@stack_rule(
    name="gcp-no-hmac-keys",
    summary="The cell creates no GCS HMAC keys, but for the one key of the marked object-storage service account.",
)
def no_hmac_keys(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    marked = [account for account in view.of_type(SERVICE_ACCOUNT) if is_marked_account(account)]
    for key in view.of_type(HMAC_KEY):
        if _owned_by(view, marked, key, "serviceAccountEmail", "email") is None:
            report("HMAC keys are not allowed; use Workload Identity instead.", key.urn)


@stack_rule(
    name="static-storage-key-limited-to-one-bucket",
    summary="The one static credential a cell may hold (the marked object-storage key holder) has exactly one key "
    "and reaches one bucket's objects and nothing else: AWS, one inline policy of S3 object/list actions on one "
    "bucket plus its KMS key; GCP, only objectAdmin/legacyBucketReader on one bucket.",
)
def static_storage_key_limited(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    for user in (user for user in view.of_type(IAM_USER) if is_marked_user(user)):
        keys = [key for key in view.of_type(IAM_ACCESS_KEY) if _owned_by(view, [user], key, "user", "name")]
        if len(keys) > 1:
            report(f"holds {len(keys)} access keys; the exception is one key (rotation replaces it)", user.urn)
        policies = [p for p in view.of_type(*IAM_USER_TYPES) if p.resource_type != IAM_USER
                    and _owned_by(view, [user], p, "user", "name")]
        for other in policies:
            if other.resource_type != IAM_USER_POLICY:
                report(f"has a {other.resource_type.rsplit(':', 1)[-1]}; the key holder gets one inline policy "
                       "and nothing else", user.urn)
        inline = [p for p in policies if p.resource_type == IAM_USER_POLICY]
        if len(inline) != 1:
            report(f"has {len(inline)} inline policies; the key holder gets exactly one", user.urn)
        for policy in inline:
            for problem in _aws_scope_problems(get(policy.props, "policy")):
                report(problem, policy.urn)
    for account in (a for a in view.of_type(SERVICE_ACCOUNT) if is_marked_account(a)):
        keys = [key for key in view.of_type(HMAC_KEY)
                if _owned_by(view, [account], key, "serviceAccountEmail", "email")]
        if len(keys) > 1:
            report(f"holds {len(keys)} HMAC keys; the exception is one key (rotation replaces it)", account.urn)
        for grant in view.of_type(*GCP_IAM_MEMBERS):
            if str(account.urn) not in dependency_urns(grant):
                continue
            if grant.resource_type != BUCKET_IAM_MEMBER or get(grant.props, "role") not in GCS_BUCKET_ROLES:
                report(f"the key holder is granted {get(grant.props, 'role')!r} by a "
                       f"{grant.resource_type.rsplit(':', 1)[-1]}; it may hold only "
                       f"{', '.join(sorted(GCS_BUCKET_ROLES))} on the cell's bucket", grant.urn)
        buckets = {known(grant.props, "bucket") for grant in view.of_type(BUCKET_IAM_MEMBER)
                   if str(account.urn) in dependency_urns(grant)}
        if len(buckets - {None}) > 1:
            report(f"the key holder reaches {len(buckets)} buckets; the exception is the cell's one bucket",
                   account.urn)


def _aws_scope_problems(policy: Any) -> list[str]:
    statements = iam.statements(policy)  # [] while unknown during preview: checked once it is known
    problems: list[str] = []
    buckets: set[str] = set()
    for statement in statements:
        if not iam.is_allow(statement):
            continue
        actions = {str(action) for action in as_list(statement.get("Action"))}
        resources = [str(resource) for resource in as_list(statement.get("Resource"))]
        if actions <= KMS_ACTIONS:
            if "*" in resources and "kms:ViaService" not in str(statement.get("Condition")):
                problems.append("allows KMS on every key without a kms:ViaService condition")
            continue
        if not actions <= S3_OBJECT_ACTIONS | S3_BUCKET_ACTIONS:
            problems.append(f"allows {', '.join(sorted(actions - S3_OBJECT_ACTIONS - S3_BUCKET_ACTIONS))}; the "
                            "key may only read, write and list the cell's bucket")
        for resource in resources:
            if not resource.startswith("arn:aws:s3:::") or resource in ("arn:aws:s3:::*", "*"):
                problems.append(f"names {resource!r}; the key may only reach one bucket")
            else:
                buckets.add(resource.removeprefix("arn:aws:s3:::").split("/", 1)[0])
    if len(buckets) > 1:
        problems.append(f"reaches {len(buckets)} buckets ({', '.join(sorted(buckets))}); the exception is one")
    return problems
