"""A skill refused by the admin API is named as the admin console's form shows it: a row with a name and a level.

The API takes skills as an object ``{"billing": 3}``; the console shows them as rows (a name field, a level field).
A refusal says which skill and which of its two fields, in the same words for an agent's skills and a queue's, and
never in the ``name:level`` words of the agents file and the CLI (where a skill is written that way)."""

from __future__ import annotations

import pytest

from gateway.contact.agents import check_skills
from gateway.contact.queues import parse_queue
from gateway.errors import BadRequest


def agent_refusal(skills: object) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        check_skills(skills)
    return caught.value


def queue_refusal(skills: object) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        parse_queue("billing", {"skills": skills})
    return caught.value


@pytest.mark.parametrize(
    ("skills", "field", "words"),
    [
        (  # a name that is not one: the field is the skills, never the hostile text itself
            {"bill ing": 2},
            "skills",
            "skill 'bill ing': the name is 1 to 40 Latin letters (A-Z, a-z), digits, _ or - (no spaces)",
        ),
        ({"billing:3": 1}, "skills", "skill 'billing:3': the name is 1 to 40 Latin letters (A-Z, a-z), digits, _ or -"),
        ({"billing\n": 2}, "skills", "skill 'billing\\n': the name is 1 to 40 Latin letters"),  # not before a newline
        ({"a\u202e": 2}, "skills", "skill 'a\\u202e': the name is"),
        ({"billing": 11}, "skills.billing", "skill 'billing': the level is a whole number from 1 to 10"),
        ({"billing": 0}, "skills.billing", "skill 'billing': the level is a whole number from 1 to 10"),
        ({"billing": "3"}, "skills.billing", "skill 'billing': the level is a whole number from 1 to 10"),
        ({"billing": True}, "skills.billing", "skill 'billing': the level is a whole number from 1 to 10"),
    ],
)
def test_an_agents_and_a_queues_skill_are_refused_in_the_forms_words(
    skills: dict[str, object], field: str, words: str
) -> None:
    for refusal in (agent_refusal(skills), queue_refusal(skills)):
        assert refusal.field == field
        assert refusal.message.startswith(words), refusal.message
        assert "name:level" not in refusal.message


def test_one_skill_twice_in_any_case_is_refused_naming_both() -> None:
    for refusal in (agent_refusal({"billing": 2, "Billing": 3}), queue_refusal({"billing": 2, "Billing": 3})):
        assert refusal.field == "skills.Billing"
        assert refusal.message.startswith("skill 'Billing' is listed twice (as 'billing'")


def test_the_texts_of_the_file_and_the_cli_keep_their_own_words() -> None:
    assert check_skills({"Billing": 3, "spanish": 1}) == (("billing", 3), ("spanish", 1))
    assert check_skills("billing:3,spanish") == (("billing", 3), ("spanish", 1))
    assert "'name:level'" in agent_refusal("billing:11").message  # written name:level, refused in those words
