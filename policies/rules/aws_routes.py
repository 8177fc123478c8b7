"""Where traffic can go: the database's subnets have no route out of the VPC, and nodes' subnets reach the
internet only through NAT (no route to an internet gateway)."""

from __future__ import annotations

from typing import Any

from policies.core.props import as_list, get, known
from policies.core.rule import Report, stack_rule
from policies.core.stack import StackView, dependency_urns
from policies.rules.tokens import EKS_NODE_GROUP, RDS_SUBNET_GROUP, ROUTE_TABLE, ROUTE_TABLE_ASSOCIATION, SUBNET

_WORLD = ("0.0.0.0/0", "::/0")


def _subnet_routes(view: StackView) -> dict[str, list[Any]]:
    """Subnet id -> the routes of the route tables associated with it. An association names its table by id (an
    output: known under the CLI) and depends on it (offline, where ids are not inputs)."""
    tables = view.of_type(ROUTE_TABLE)
    routes: dict[str, list[Any]] = {}
    for association in view.of_type(ROUTE_TABLE_ASSOCIATION):
        subnet, table_id = known(association.props, "subnetId"), known(association.props, "routeTableId")
        if not isinstance(subnet, str):
            continue
        deps = dependency_urns(association)
        for table in tables:
            if (table_id is not None and known(table.props, "id") == table_id) or str(table.urn) in deps:
                routes.setdefault(subnet, []).extend(as_list(get(table.props, "routes")))
    return routes


def _to_world(route: Any) -> bool:
    return get(route, "cidrBlock") in _WORLD or get(route, "ipv6CidrBlock") in _WORLD


@stack_rule(
    name="aws-database-subnets-no-route-out",
    summary="The subnets of every RDS subnet group have no route to 0.0.0.0/0 (no internet gateway, no NAT): "
    "the database is reachable only inside the VPC.",
)
def database_subnets_no_route_out(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    routes = _subnet_routes(view)
    for group in view.of_type(RDS_SUBNET_GROUP):
        for subnet in as_list(get(group.props, "subnetIds")):
            out = [r for r in routes.get(str(subnet), []) if _to_world(r)]
            if out:
                report(f"subnet {subnet} routes 0.0.0.0/0 out of the VPC; database subnets keep only the local "
                       "route.", group.urn)


@stack_rule(
    name="aws-nodes-private-subnets",
    summary="EKS node groups run only in private subnets: no subnet of theirs routes to an internet gateway or "
    "maps public IPs on launch (egress goes through NAT).",
)
def nodes_private_subnets(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    routes = _subnet_routes(view)
    public_ip = {str(known(s.props, "id") or s.name) for s in view.of_type(SUBNET)
                 if get(s.props, "mapPublicIpOnLaunch") is True}
    for group in view.of_type(EKS_NODE_GROUP):
        for subnet in as_list(get(group.props, "subnetIds")):
            gateways = [r for r in routes.get(str(subnet), [])
                        if _to_world(r) and str(get(r, "gatewayId") or "").startswith("igw-")]
            if gateways or str(subnet) in public_ip:
                report(f"subnet {subnet} is public (a route to an internet gateway or public IPs on launch); "
                       "node groups belong in the private subnets.", group.urn)
