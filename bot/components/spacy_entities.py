"""Entities from spaCy's NER and the project's entity_ruler, at half the cost of Rasa's extractor.

Rasa's `SpacyEntityExtractor` runs the whole spaCy pipeline a second time on every message (the
`SpacyNLP` doc is lower-cased, and NER needs case). The project's pipeline (bot/spacy_pipeline.py)
keeps `entity_ruler` and `ner` disabled, so `SpacyNLP`'s pass runs only what the tokenizer and
featurizers need; this component runs just those two on the original text. en_core_web_sm's `ner`
has its own tok2vec, so its entities are the same as a full pipeline's (tests/bot/test_spacy_entities.py).

Then `refine_entities` (bot/components/entity_spans.py) corrects what en_core_web_sm gets wrong for billing
text.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.entity_spans import refine_entities

# Run in this order on the cased text; the ruler's spans come first so NER keeps its hands off them.
ENTITY_PIPES = ("entity_ruler", "ner")


def entity_doc(nlp: Any, text: str) -> Any:
    """The cased text through the tokenizer, the entity_ruler and NER only."""
    doc = nlp.make_doc(text)
    for name in ENTITY_PIPES:
        doc = nlp.get_pipe(name)(doc)
    return doc


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False, model_from="SpacyNLP"
)
class CasedSpacyEntityExtractor(SpacyEntityExtractor):
    """`SpacyEntityExtractor` that runs only the entity pipes on the original text."""

    def process(self, messages: list[Message], model: SpacyModel) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            doc = entity_doc(model.model, text)
            # named after refining: refine_entities adds spans of its own, all of them this component's
            extracted = self.filter_irrelevant_entities(
                self.add_extractor_name(refine_entities(text, self._extract_entities(doc))),
                self._config["dimensions"],
            )
            message.set(ENTITIES, message.get(ENTITIES, []) + extracted, add_to_output=True)
        return messages
