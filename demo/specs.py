"""What the demo organizations hold, read from the TOML files in demo/data/.

`common.toml` has what every demo organization shares (the demo users, generic task titles,
check-in notes); one file per organization has its people, pathways, objectives, key results
and projects, and the counts of its mess. `load_common()` and `load_spec()` read a file with
the standard library's tomllib and check it with pydantic: a malformed file raises SpecError,
which names the file and every field that is wrong. The bundled files are loaded once, when
this module is imported (NORTHWIND, NORTHWIND_LABS, USERS...).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError

from okrs.models import MetricType, ProjectStatus
from orgs.models import Role

DATA_DIR = Path(__file__).resolve().parent / "data"

Location = tuple[str | int, ...]


class SpecError(ValueError):
    """A spec file that cannot be read or does not describe a demo organization."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{_shown(path)} is not a valid demo spec:\n  " + "\n  ".join(problems))


def _number(value: object) -> int | float:
    # Kept as written: 42 stays an int and 42.0 a float (the demo's figures depend on it).
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("should be a number")
    return value


Number = Annotated[int | float, PlainValidator(_number)]
Count = Annotated[StrictInt, Field(ge=0)]


class _Spec(BaseModel):
    # A misspelt key is an error, not a silently ignored line.
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------------
# common.toml
# --------------------------------------------------------------------------------------------


class DemoUser(_Spec):
    username: str
    first_name: str
    last_name: str
    email: str


class CheckInNotes(_Spec):
    """Notes for a check-in whose figure went up, stayed flat or went down."""

    up: tuple[str, ...]
    flat: tuple[str, ...]
    down: tuple[str, ...]


class CommonSpec(_Spec):
    generic_tasks: tuple[str, ...]
    users: tuple[DemoUser, ...]
    check_in_notes: CheckInNotes


# --------------------------------------------------------------------------------------------
# One organization
# --------------------------------------------------------------------------------------------


class KeyResultSpec(_Spec):
    title: str
    metric: MetricType
    start: Number
    target: Number
    unit: str = ""
    # Mess: a key result nobody has ever checked in on.
    no_check_ins: StrictBool = False

    @model_validator(mode="before")
    @classmethod
    def _yes_no_goes_from_0_to_1(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("metric") == MetricType.YES_NO:
            return {"start": 0, "target": 1, **data}
        return data

    @model_validator(mode="after")
    def _yes_no_is_0_to_1(self) -> KeyResultSpec:
        if self.metric == MetricType.YES_NO and (self.start, self.target) != (0, 1):
            raise ValueError("a yes_no key result goes from start 0 to target 1")
        return self


class ObjectiveSpec(_Spec):
    title: str
    key_results: tuple[KeyResultSpec, ...]
    owner: str = ""  # a name in `people`; random when empty
    parent: str = ""  # the title of an objective (same cycle) this one supports


class PathwaySpec(_Spec):
    name: str
    description: str
    projects: tuple[str, ...]
    task_titles: tuple[str, ...] = ()
    current: tuple[ObjectiveSpec, ...]
    previous: tuple[ObjectiveSpec, ...] = ()


class OrgSpec(_Spec):
    name: str
    slug: str
    seed: StrictInt
    email_domain: str
    task_total: Count
    demo_open_tasks: Count = 3
    demo_key_results: Count = 2
    # Mess (see demo.builder.DemoMess): counts and names, all zero/empty for a tidy organization.
    stale_projects: Count = 0
    people: tuple[str, ...]
    departed: tuple[str, ...] = ()
    members: dict[str, Role]  # username -> role
    # How many projects get each status, in the order the statuses are dealt (then shuffled).
    project_statuses: dict[ProjectStatus, Count]
    pathways: tuple[PathwaySpec, ...]

    @property
    def dealt_statuses(self) -> tuple[ProjectStatus, ...]:
        """One status per project, in file order, before the shuffle."""
        return tuple(s for s, count in self.project_statuses.items() for _ in range(count))


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

SpecType = TypeVar("SpecType", bound=_Spec)


def load_common(path: Path) -> CommonSpec:
    """common.toml: the demo users, generic task titles and check-in notes."""
    spec, data = _load(path, CommonSpec)
    problems = [_problem(data, loc, message) for loc, message in _common_problems(spec)]
    if problems:
        raise SpecError(path, problems)
    return spec


def load_spec(path: Path, *, common: CommonSpec) -> OrgSpec:
    """One organization's file, checked on its own and against `common` (its members are demo
    users; its projects can draw enough task titles)."""
    spec, data = _load(path, OrgSpec)
    problems = [_problem(data, loc, message) for loc, message in _org_problems(spec, common)]
    if problems:
        raise SpecError(path, problems)
    return spec


def _load(path: Path, spec_type: type[SpecType]) -> tuple[SpecType, dict[str, Any]]:
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(path, [f"not TOML: {error}"]) from error
    try:
        return spec_type.model_validate(data), data
    except PydanticValidationError as error:
        problems = [
            _problem(data, e["loc"], e["msg"].removeprefix("Value error, ")) for e in error.errors()
        ]
        raise SpecError(path, problems) from None


def _common_problems(spec: CommonSpec) -> Iterator[tuple[Location, str]]:
    yield from _duplicates(("users",), [user.username for user in spec.users], "username")
    yield from _duplicates(("generic_tasks",), list(spec.generic_tasks), "title")


def _org_problems(spec: OrgSpec, common: CommonSpec) -> Iterator[tuple[Location, str]]:
    """What pydantic cannot see field by field: names that must match, counts that must add up.
    Each is something the builder or the demo base would otherwise trip over later."""
    people = set(spec.people)
    yield from _duplicates(("people",), list(spec.people), "name")
    for index, name in enumerate(spec.departed):
        if name not in people:
            yield ("departed", index), f"{name!r} is not one of `people`"
    usernames = {user.username for user in common.users}
    for username in spec.members:
        if username not in usernames:
            yield ("members", username), f"{username!r} is not a user in common.toml"

    yield from _duplicates(("pathways",), [p.name for p in spec.pathways], "name")
    projects = [
        (("pathways", i, "projects", j), name)
        for i, pathway in enumerate(spec.pathways)
        for j, name in enumerate(pathway.projects)
    ]
    seen: set[str] = set()
    for loc, name in projects:
        if name in seen:
            yield loc, f"project {name!r} appears twice"
        seen.add(name)
    for cycle in ("current", "previous"):
        objectives = [
            (("pathways", i, cycle, j), objective)
            for i, pathway in enumerate(spec.pathways)
            for j, objective in enumerate(getattr(pathway, cycle))
        ]
        titles = Counter(objective.title for _, objective in objectives)
        top_level = {o.title for _, o in objectives if not o.parent}
        for loc, objective in objectives:
            if titles[objective.title] > 1:
                yield (*loc, "title"), f"{objective.title!r} appears twice in `{cycle}`"
            if objective.owner and objective.owner not in people:
                yield (*loc, "owner"), f"{objective.owner!r} is not one of `people`"
            # Parents are saved in a batch before their children: one level only.
            if objective.parent and objective.parent not in top_level:
                yield (
                    (*loc, "parent"),
                    f"{objective.parent!r} is not an objective without a parent in `{cycle}`",
                )
            yield from _duplicates(
                (*loc, "key_results"), [kr.title for kr in objective.key_results], "title"
            )

    statuses = sum(spec.project_statuses.values())
    if statuses != len(projects):
        yield ("project_statuses",), f"deals {statuses} statuses to {len(projects)} projects"
    active = spec.project_statuses.get(ProjectStatus.ACTIVE, 0)
    if spec.stale_projects > active:
        yield ("stale_projects",), f"{spec.stale_projects} stale of {active} active projects"
    # Each project has 2 to len(generic_tasks) tasks (demo.builder.OrgBuilder.task_counts).
    low, high = 2 * len(projects), len(common.generic_tasks) * len(projects)
    if not low <= spec.task_total <= high:
        yield ("task_total",), f"{len(projects)} projects hold {low} to {high} tasks"


def _duplicates(loc: Location, values: list[str], what: str) -> Iterator[tuple[Location, str]]:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            yield (*loc, index), f"{what} {value!r} appears twice"
        seen.add(value)


def _problem(data: Any, loc: Location, message: str) -> str:
    """`pathways[1].current[0].owner: <message> (in Workforce / Keep the nurses we have)`."""
    where, names = "", []
    for part in loc:
        if isinstance(part, int):
            where += f"[{part}]"
            data = data[part] if isinstance(data, list) and part < len(data) else None
            name = (data.get("name") or data.get("title")) if isinstance(data, dict) else None
            if isinstance(name, str):
                names.append(name)
        else:
            where += f".{part}" if where else str(part)
            data = data.get(part) if isinstance(data, dict) else None
    return f"{where or '(the file)'}: {message}" + (f" (in {' / '.join(names)})" if names else "")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------------
# The bundled specs
# --------------------------------------------------------------------------------------------

COMMON = load_common(DATA_DIR / "common.toml")
USERS = COMMON.users
GENERIC_TASKS = COMMON.generic_tasks
CHECK_IN_NOTES = COMMON.check_in_notes

NORTHWIND = load_spec(DATA_DIR / "northwind.toml", common=COMMON)
NORTHWIND_LABS = load_spec(DATA_DIR / "northwind-labs.toml", common=COMMON)
