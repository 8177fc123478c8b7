"""GCP identity (service-account keys, Workload Identity) and encryption (Artifact Registry, KMS) rules."""

from __future__ import annotations

import json

import pytest

from tests.policies.records import resource

SA_KEY = "gcp:serviceaccount/key:Key"
IAM_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
IAM_BINDING = "gcp:serviceaccount/iAMBinding:IAMBinding"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
WI_USER = "roles/iam.workloadIdentityUser"
KSA = "serviceAccount:proj.svc.id.goog[gitpod/registry-facade]"


class TestNoServiceAccountKeys:
    rule = "gcp-no-service-account-keys"
    message = ("service-account keys are not allowed; bind the workload's Kubernetes service account with Workload "
               "Identity instead.")

    def test_fails(self, check):
        key = resource(SA_KEY, "key", {"serviceAccountId": "gitpod@proj.iam.gserviceaccount.com"})
        assert check(self.rule, key) == [(key["urn"], self.message)]

    def test_fails_with_no_inputs(self, check):
        key = resource(SA_KEY, "key")
        assert check(self.rule, key) == [(key["urn"], self.message)]

    def test_passes_without_keys(self, check):
        assert check(self.rule, resource(IAM_MEMBER, "wi", {"role": WI_USER, "member": KSA})) == []


class TestWorkloadIdentitySingleKsa:
    rule = "gcp-workload-identity-single-ksa"

    def test_passes_for_one_member(self, check):
        assert check(self.rule, resource(IAM_MEMBER, "wi", {"role": WI_USER, "member": KSA,
                                                            "serviceAccountId": "projects/p/serviceAccounts/s"})) == []

    def test_passes_for_a_principal_identifier(self, check):
        principal = ("principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/"
                     "proj.svc.id.goog/subject/ns/gitpod/sa/server")
        assert check(self.rule, resource(IAM_MEMBER, "wi", {"role": WI_USER, "member": principal})) == []

    def test_fails_for_wildcard_member(self, check):
        member = resource(IAM_MEMBER, "wi", {"role": WI_USER, "member": "serviceAccount:proj.svc.id.goog[gitpod/*]"})
        assert check(self.rule, member) == [
            (member["urn"], "member 'serviceAccount:proj.svc.id.goog[gitpod/*]' is not a single Kubernetes service "
                            "account (serviceAccount:PROJECT.svc.id.goog[NAMESPACE/NAME]).")
        ]

    def test_fails_for_binding_with_two_members(self, check):
        binding = resource(IAM_BINDING, "wi", {"role": WI_USER, "members": [
            KSA, "serviceAccount:proj.svc.id.goog[gitpod/server]"]})
        assert check(self.rule, binding) == [
            (binding["urn"], "grants roles/iam.workloadIdentityUser to 2 members; bind one Kubernetes service "
                             "account per Google service account.")
        ]

    def test_fails_when_member_absent(self, check):
        binding = resource(IAM_BINDING, "wi", {"role": WI_USER})
        assert check(self.rule, binding) == [
            (binding["urn"], "grants roles/iam.workloadIdentityUser to 0 members; bind one Kubernetes service "
                             "account per Google service account.")
        ]

    def test_ignores_other_roles(self, check):
        assert check(self.rule, resource(IAM_MEMBER, "user", {"role": "roles/iam.serviceAccountUser",
                                                              "member": "group:ops@example.com"})) == []


class TestNoBasicRoles:
    rule = "gcp-no-basic-roles"
    member = "serviceAccount:gitpod-nodes@proj.iam.gserviceaccount.com"

    @staticmethod
    def message(role, members, where=""):
        return (f"{where}grants the basic role {role} (to {members}); basic roles span every service in the project: "
                "grant a predefined or custom role instead.")

    def test_passes_for_predefined_roles(self, check):
        grants = [
            resource("gcp:projects/iAMMember:IAMMember", "logs", {"project": "p", "role": "roles/logging.logWriter",
                                                                   "member": self.member}),
            resource("gcp:projects/iAMMember:IAMMember", "monitoring", {"project": "p",
                                                                         "role": "roles/monitoring.viewer",
                                                                         "member": self.member}),
            resource("gcp:storage/bucketIAMMember:BucketIAMMember", "ws", {"bucket": "b",
                                                                            "role": "roles/storage.objectAdmin",
                                                                            "member": self.member}),
        ]
        assert check(self.rule, *grants) == []

    @pytest.mark.parametrize(("resource_type", "role"), [
        ("gcp:projects/iAMMember:IAMMember", "roles/owner"),
        ("gcp:projects/iAMMember:IAMMember", "roles/editor"),
        ("gcp:projects/iAMMember:IAMMember", "roles/viewer"),
        ("gcp:folder/iAMMember:IAMMember", "roles/editor"),
        ("gcp:organizations/iAMMember:IAMMember", "roles/owner"),
        (IAM_MEMBER, "roles/owner"),
        ("gcp:storage/bucketIAMMember:BucketIAMMember", "roles/editor"),
    ])
    def test_fails_for_member(self, check, resource_type, role):
        grant = resource(resource_type, "grant", {"role": role, "member": self.member})
        assert check(self.rule, grant) == [(grant["urn"], self.message(role, self.member))]

    @pytest.mark.parametrize("resource_type", [
        "gcp:projects/iAMBinding:IAMBinding", IAM_BINDING, "gcp:storage/bucketIAMBinding:BucketIAMBinding",
    ])
    def test_fails_for_binding(self, check, resource_type):
        grant = resource(resource_type, "grant", {"role": "roles/editor", "members": [self.member, "user:a@b.c"]})
        assert check(self.rule, grant) == [(grant["urn"], self.message("roles/editor", f"{self.member}, user:a@b.c"))]

    @pytest.mark.parametrize("resource_type", [
        "gcp:projects/iAMPolicy:IAMPolicy", "gcp:serviceaccount/iAMPolicy:IAMPolicy",
        "gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
    ])
    def test_fails_for_policy_bindings(self, check, resource_type):
        policy_data = json.dumps({"bindings": [
            {"role": "roles/logging.logWriter", "members": [self.member]},
            {"role": "roles/owner", "members": ["group:admins@example.com"]},
        ]})
        policy = resource(resource_type, "policy", {"policyData": policy_data})
        assert check(self.rule, policy) == [
            (policy["urn"], self.message("roles/owner", "group:admins@example.com", where="policyData binding #1 "))
        ]

    def test_passes_when_absent(self, check):
        assert check(self.rule, resource("gcp:projects/iAMMember:IAMMember", "empty", {"project": "p"})) == []
        assert check(self.rule, resource("gcp:projects/iAMPolicy:IAMPolicy", "empty", {"project": "p"})) == []

    def test_fails_for_role_with_no_members(self, check):
        binding = resource("gcp:projects/iAMBinding:IAMBinding", "grant", {"role": "roles/owner"})
        assert check(self.rule, binding) == [(binding["urn"], self.message("roles/owner", "no members"))]

    def test_viewer_allowed_by_config_but_never_owner_or_editor(self, check):
        viewer = resource("gcp:projects/iAMMember:IAMMember", "viewer", {"role": "roles/viewer", "member": self.member})
        owner = resource("gcp:projects/iAMMember:IAMMember", "owner", {"role": "roles/owner", "member": self.member})
        assert check(self.rule, viewer, owner, config={"allowViewer": True}) == [
            (owner["urn"], self.message("roles/owner", self.member))
        ]


class TestArtifactRegistryCmek:
    rule = "gcp-artifact-registry-cmek"
    message = "kmsKeyName is not set; encrypt with the cell's Cloud KMS key."

    def test_passes(self, check):
        assert check(self.rule, resource(REPOSITORY, "repo", {"format": "DOCKER", "kmsKeyName": "projects/p/k"})) == []

    def test_fails_when_empty(self, check):
        repo = resource(REPOSITORY, "repo", {"format": "DOCKER", "kmsKeyName": ""})
        assert check(self.rule, repo) == [(repo["urn"], self.message)]

    def test_fails_when_absent(self, check):
        repo = resource(REPOSITORY, "repo", {"format": "DOCKER"})
        assert check(self.rule, repo) == [(repo["urn"], self.message)]


class TestKmsKeyRotation:
    rule = "gcp-kms-key-rotation"

    def test_passes(self, check):
        assert check(self.rule, resource(CRYPTO_KEY, "key", {"rotationPeriod": "7776000s"})) == []

    def test_fails_when_too_long(self, check):
        key = resource(CRYPTO_KEY, "key", {"rotationPeriod": "31536000s"})
        assert check(self.rule, key) == [
            (key["urn"], "rotationPeriod is 31536000s (365 days); rotate at least every 90 days.")
        ]

    def test_fails_when_not_a_duration(self, check):
        key = resource(CRYPTO_KEY, "key", {"rotationPeriod": "yearly"})
        assert check(self.rule, key) == [
            (key["urn"], "rotationPeriod is 'yearly', which is not a duration; rotate at least every 90 days.")
        ]

    def test_fails_when_absent(self, check):
        key = resource(CRYPTO_KEY, "key", {})
        assert check(self.rule, key) == [
            (key["urn"], "rotationPeriod is not set; rotate at least every 90 days.")
        ]

    def test_signing_keys_are_exempt(self, check):
        assert check(self.rule, resource(CRYPTO_KEY, "sign", {"purpose": "ASYMMETRIC_SIGN"})) == []


class TestNoPrincipalSets:
    rule = "gcp-no-principal-sets"
    principal = ("principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
                 "proj.svc.id.goog/subject/ns/gitpod/sa/ws-daemon")
    namespace_set = ("principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
                     "proj.svc.id.goog/namespace/gitpod")

    def message(self, role: str, member: str, where: str = "") -> str:
        return (f"{where}grants {role} to the principal set {member!r}; grant it to the one Kubernetes service "
                "account that needs it (principal://.../subject/ns/NAMESPACE/sa/NAME).")

    def test_passes_for_one_service_accounts_principal(self, check):
        grant = resource("gcp:storage/bucketIAMMember:BucketIAMMember", "grant",
                         {"role": "roles/storage.objectAdmin", "member": self.principal})
        assert check(self.rule, grant) == []

    @pytest.mark.parametrize("resource_type", [
        "gcp:storage/bucketIAMMember:BucketIAMMember", "gcp:projects/iAMMember:IAMMember",
    ])
    def test_fails_for_a_namespace_set(self, check, resource_type):
        grant = resource(resource_type, "grant", {"role": "roles/storage.objectAdmin", "member": self.namespace_set})
        assert check(self.rule, grant) == [(grant["urn"], self.message("roles/storage.objectAdmin",
                                                                       self.namespace_set))]

    def test_fails_in_a_binding_and_in_a_policy(self, check):
        binding = resource("gcp:storage/bucketIAMBinding:BucketIAMBinding", "binding",
                           {"role": "roles/storage.objectViewer", "members": [self.principal, self.namespace_set]})
        policy = resource("gcp:projects/iAMPolicy:IAMPolicy", "policy", {"policyData": json.dumps(
            {"bindings": [{"role": "roles/artifactregistry.reader", "members": [self.namespace_set]}]})})
        assert sorted(check(self.rule, binding, policy)) == sorted([
            (binding["urn"], self.message("roles/storage.objectViewer", self.namespace_set)),
            (policy["urn"], self.message("roles/artifactregistry.reader", self.namespace_set,
                                         where="policyData binding #0 ")),
        ])

    def test_passes_when_absent(self, check):
        assert check(self.rule, resource("gcp:storage/bucketIAMMember:BucketIAMMember", "empty", {"bucket": "b"})) == []
