"""Static credentials: no IAM users, access keys or HMAC keys, but for the marked object-storage key holder, which
reaches one bucket and nothing else."""

from __future__ import annotations

import json

from tests.policies.records import resource

USER = "aws:iam/user:User"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"
LOGIN = "aws:iam/userLoginProfile:UserLoginProfile"
ACCOUNT = "gcp:serviceaccount/account:Account"
HMAC = "gcp:storage/hmacKey:HmacKey"
BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
MARK = {"gitpod-cell-purpose": "object-storage-static-key"}
BUCKET = "arn:aws:s3:::gitpod-prod-123456789012-eu-west-1"


def marked_user(name: str = "gitpod-prod-object-storage", **changes: object) -> dict:
    return resource(USER, name, {"name": name, "path": "/gitpod-cell/", "tags": dict(MARK), **changes})


def bucket_policy(*extra: dict, user: str = "gitpod-prod-object-storage") -> dict:
    statements = [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": [BUCKET]},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": [f"{BUCKET}/*"]},
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": ["arn:aws:kms:eu-west-1:123456789012:key/k"]},
        *extra,
    ]
    return resource(USER_POLICY, f"{user}-bucket-only", {"user": user, "policy": json.dumps(
        {"Version": "2012-10-17", "Statement": statements})})


def key(name: str = "initial", user: str = "gitpod-prod-object-storage") -> dict:
    return resource(ACCESS_KEY, f"{user}-{name}", {"user": user})


class TestNoIamUsers:
    rule = "aws-no-iam-users"

    def test_fails_for_any_unmarked_user_and_its_policies_and_logins(self, check):
        user = resource(USER, "ci", {"name": "ci"})
        policy = resource(USER_POLICY, "ci", {"user": "ci", "policy": "{}"})
        assert check(self.rule, user, policy) == [
            (user["urn"], "User resources are not allowed; use an IAM role (IRSA) instead."),
            (policy["urn"], "UserPolicy resources are not allowed; use an IAM role (IRSA) instead."),
        ]

    def test_the_marked_holder_and_its_policy_pass_but_never_a_login(self, check):
        login = resource(LOGIN, "console", {"user": "gitpod-prod-object-storage"})
        assert check(self.rule, marked_user(), bucket_policy(), login) == [
            (login["urn"], "UserLoginProfile resources are not allowed; use an IAM role (IRSA) instead.")]

    def test_a_mark_without_the_path_is_no_mark(self, check):
        user = marked_user(path="/")
        assert len(check(self.rule, user)) == 1

    def test_passes_with_no_users(self, check):
        assert check(self.rule, resource("aws:iam/role:Role", "r")) == []


class TestNoAccessKeys:
    rule = "aws-no-access-keys"

    def test_fails_for_keys_of_other_users(self, check):
        other = key(user="ci")
        assert check(self.rule, marked_user(), key(), other) == [
            (other["urn"], "static access keys are not allowed; use an IAM role (IRSA) instead.")]

    def test_fails_for_a_key_without_inputs(self, check):
        assert len(check(self.rule, resource(ACCESS_KEY, "k"))) == 1

    def test_passes_without_keys(self, check):
        assert check(self.rule, marked_user()) == []


class TestNoHmacKeys:
    rule = "gcp-no-hmac-keys"

    def test_only_the_marked_accounts_key_passes(self, check):
        holder = resource(ACCOUNT, "holder", {"accountId": "gitpod-prod-object-storage",
                                              "description": "gitpod-cell-purpose: object-storage-static-key (...)",
                                              "email": "holder@p.iam.gserviceaccount.com"})
        mine = resource(HMAC, "mine", {"serviceAccountEmail": "holder@p.iam.gserviceaccount.com"})
        other = resource(HMAC, "other", {"serviceAccountEmail": "ci@p.iam.gserviceaccount.com"})
        assert check(self.rule, holder, mine, other) == [
            (other["urn"], "HMAC keys are not allowed; use Workload Identity instead.")]

    def test_absent(self, check):
        assert check(self.rule, resource(ACCOUNT, "a", {})) == []
        assert len(check(self.rule, resource(HMAC, "k"))) == 1


class TestStaticStorageKeyLimited:
    rule = "static-storage-key-limited-to-one-bucket"

    def test_passes_for_the_bucket_key(self, check):
        assert check(self.rule, marked_user(), bucket_policy(), key()) == []

    def test_fails_for_more_than_the_bucket(self, check):
        wider = bucket_policy({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::other/*"]},
                              {"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": ["*"]})
        messages = [message for _, message in check(self.rule, marked_user(), wider, key())]
        assert any("iam:PassRole" in message for message in messages)
        assert any("names '*'" in message for message in messages)
        assert any("reaches 2 buckets" in message for message in messages)

    def test_fails_for_two_keys_or_no_policy(self, check):
        messages = [message for _, message in check(self.rule, marked_user(), key(), key("second"))]
        assert "holds 2 access keys; the exception is one key (rotation replaces it)" in messages
        assert "has 0 inline policies; the key holder gets exactly one" in messages

    def test_gcp_holder_only_on_its_bucket(self, check):
        holder = resource(ACCOUNT, "holder", {"description": "gitpod-cell-purpose: object-storage-static-key",
                                              "email": "holder@p.iam.gserviceaccount.com"})
        on_bucket = resource(BUCKET_MEMBER, "b", {"bucket": "cell", "role": "roles/storage.objectAdmin"},
                             dependencies=[holder])
        on_project = resource(PROJECT_MEMBER, "p", {"role": "roles/storage.admin"}, dependencies=[holder])
        assert check(self.rule, holder, on_bucket) == []
        (violation,) = check(self.rule, holder, on_bucket, on_project)
        assert violation[0] == on_project["urn"]

    def test_absent(self, check):
        assert check(self.rule, resource("aws:iam/role:Role", "r")) == []
