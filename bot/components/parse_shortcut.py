"""Skip the NLU graph for messages whose parse is already known (issue 20).

Rasa 3.6 runs every NLU component on every message and only then `RegexMessageHandler`, which replaces the
whole result of a button payload (`/intent{...}` naming an intent of the domain) with the payload's intent and
entities. And a text the bot has parsed before ("hi", "thanks", "yes") parses the same again: the components
are deterministic and read only the text (never the metadata or the conversation).

`ParseShortcut`, first in the pipeline, marks such a message: a payload Rasa will unpack (the same check as
`RegexMessageHandler`, against the same domain), or a text found in this model's parse cache. The guarded
subclasses of the pipeline's components below (`GuardedDIETClassifier`, ...) leave marked messages alone and
run unchanged on every other one (training is not touched at all). `ParseShortcutMemo`, last in the pipeline,
gives a cached message its stored parse (the output properties: intent, ranking, entities, tokens, ...) and
stores the parse of every message it did not shortcut. The cache is per model (a new model starts empty),
bounded (least recently used texts go first) and in memory of the one Rasa process.

Numbers: bench/results/profile.md (profile before and after, same run).
"""

from __future__ import annotations

import copy
import functools
from collections import OrderedDict
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.extractors.entity_synonyms import EntitySynonymMapper
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.featurizers.sparse_featurizer.lexical_syntactic_featurizer import LexicalSyntacticFeaturizer
from rasa.nlu.featurizers.sparse_featurizer.regex_featurizer import RegexFeaturizer
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.length_buckets import LengthBucketedDIETClassifier
from bot.components.minilm import MiniLMFeaturizer, MiniLMOutOfScopeDetector
from bot.components.minilm_blend import MiniLMIntentBlender
from bot.components.spacy_entities import CasedSpacyEntityExtractor

SHORTCUT = "parse_shortcut"  # message attribute set by ParseShortcut (never in the parse output)
PAYLOAD = "payload"
CACHE_SIZE = "cache_size"
# What Rasa's message converter puts on every message: never part of a cached parse.
_OWN_KEYS = frozenset({TEXT, "message_id", "metadata", SHORTCUT})


class ParseCache:
    """Texts -> the output properties of their parse, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def get(self, text: str) -> dict[str, Any] | None:
        entry = self._entries.get(text)
        if entry is not None:
            self._entries.move_to_end(text)
        return entry

    def put(self, text: str, parse: dict[str, Any]) -> None:
        if self.size <= 0:
            return
        self._entries[text] = parse
        self._entries.move_to_end(text)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


_caches: dict[str, ParseCache] = {}


def cache_for(execution_context: ExecutionContext, size: int) -> ParseCache:
    """One cache per loaded model, shared by its ParseShortcut and ParseShortcutMemo."""
    key = execution_context.model_id or ""
    if key not in _caches:
        _caches[key] = ParseCache(size)
    return _caches[key]


def _unshortcut(messages: list[Message]) -> list[Message]:
    return [message for message in messages if message.get(SHORTCUT) is None]


# Registered as a classifier that needs no training: Rasa runs it only on messages at prediction time (never
# on the training data) and hands it the domain, as it does RegexMessageHandler.
@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ParseShortcut(GraphComponent):
    """First in the pipeline: marks button payloads and texts whose parse is cached."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {CACHE_SIZE: 2000}

    def __init__(self, cache: ParseCache) -> None:
        self.cache = cache

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> ParseShortcut:
        return cls(cache_for(execution_context, int(config[CACHE_SIZE])))

    def process(self, messages: list[Message], domain: Domain) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str):
                continue
            # RegexMessageHandler's own check: it unpacks only a payload naming an intent of the domain
            if YAMLStoryReader.unpack_regex_message(message, domain) is not message:
                message.set(SHORTCUT, PAYLOAD)
                continue
            parse = self.cache.get(text)
            if parse is not None:
                message.set(SHORTCUT, parse)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ParseShortcutMemo(GraphComponent):
    """Last in the pipeline: gives cached messages their parse and stores every new parse."""

    def __init__(self, cache: ParseCache) -> None:
        self.cache = cache

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> ParseShortcutMemo:
        return cls(cache_for(execution_context, ParseShortcut.get_default_config()[CACHE_SIZE]))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            shortcut = message.get(SHORTCUT)
            if shortcut == PAYLOAD:
                continue  # RegexMessageHandler, right after this, gives it the payload's intent and entities
            if isinstance(shortcut, dict):
                del message.data[SHORTCUT]
                for key, value in copy.deepcopy(shortcut).items():
                    message.set(key, value, add_to_output=True)
                continue
            text = message.get(TEXT)
            if isinstance(text, str):
                self.cache.put(text, copy.deepcopy({
                    key: value for key, value in message.data.items()
                    if key in message.output_properties and key not in _OWN_KEYS
                }))
        return messages


def guarded(original: Any) -> Any:
    """`process` of a component that leaves marked messages alone (same signature, so the recipe wires the
    same inputs to it)."""

    @functools.wraps(original)
    def process(self: Any, messages: list[Message], *args: Any, **kwargs: Any) -> list[Message]:
        todo = _unshortcut(messages)
        if not todo:
            return messages
        done = iter(original(self, todo, *args, **kwargs))
        return [next(done) if message.get(SHORTCUT) is None else message for message in messages]

    return process


def registered_like(base: type[GraphComponent], *, model_from: str | None = None) -> Any:
    """Registers a Guarded<base> with the recipe as `base` is (types, training), `model_from` aside."""
    registered = DefaultV1Recipe._from_registry(base.__name__)
    return DefaultV1Recipe.register(
        list(registered.types), is_trainable=registered.is_trainable,
        model_from=model_from if model_from is not None else registered.model_from,
    )


# Each is its base class, training included; only `process` differs. (Rasa fingerprints a component by its
# class source, so these are written out rather than made in a loop.)
@registered_like(SpacyNLP, model_from="GuardedSpacyNLP")
class GuardedSpacyNLP(SpacyNLP):
    process = guarded(SpacyNLP.process)


@registered_like(SpacyTokenizer)
class GuardedSpacyTokenizer(SpacyTokenizer):
    process = guarded(SpacyTokenizer.process)


@registered_like(RegexFeaturizer)
class GuardedRegexFeaturizer(RegexFeaturizer):
    process = guarded(RegexFeaturizer.process)


@registered_like(LexicalSyntacticFeaturizer)
class GuardedLexicalSyntacticFeaturizer(LexicalSyntacticFeaturizer):
    process = guarded(LexicalSyntacticFeaturizer.process)


@registered_like(CountVectorsFeaturizer)
class GuardedCountVectorsFeaturizer(CountVectorsFeaturizer):
    process = guarded(CountVectorsFeaturizer.process)


@registered_like(MiniLMFeaturizer)
class GuardedMiniLMFeaturizer(MiniLMFeaturizer):
    process = guarded(MiniLMFeaturizer.process)


@registered_like(DIETClassifier)
class GuardedDIETClassifier(LengthBucketedDIETClassifier):
    process = guarded(DIETClassifier.process)


@registered_like(MiniLMIntentBlender)
class GuardedMiniLMIntentBlender(MiniLMIntentBlender):
    process = guarded(MiniLMIntentBlender.process)


@registered_like(MiniLMOutOfScopeDetector)
class GuardedMiniLMOutOfScopeDetector(MiniLMOutOfScopeDetector):
    process = guarded(MiniLMOutOfScopeDetector.process)


@registered_like(CasedSpacyEntityExtractor, model_from="GuardedSpacyNLP")
class GuardedCasedSpacyEntityExtractor(CasedSpacyEntityExtractor):
    process = guarded(CasedSpacyEntityExtractor.process)


@registered_like(EntitySynonymMapper)
class GuardedEntitySynonymMapper(EntitySynonymMapper):
    process = guarded(EntitySynonymMapper.process)


@registered_like(FallbackClassifier)
class GuardedFallbackClassifier(FallbackClassifier):
    process = guarded(FallbackClassifier.process)
