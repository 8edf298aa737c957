"""A labelled sample of customer messages a billing bot could not answer: several phrasings of a few
new questions, and unrelated one-offs. Used to measure the review clustering (pairwise precision and
recall): near-paraphrases must land together, unrelated questions apart."""

PARAPHRASE_GROUPS: dict[str, list[str]] = {
    "update_payment_method": [
        "how do i update my payment method",
        "I need to change my credit card on file",
        "change the card on my account",
        "update my card details",
        "my card expired, how do i put a new card on file",
        "can i change my payment method",
        "how to update payment method?",
        "i want to update my credit card",
        "change payment card",
        "new card, how do i update it",
        "update card on file",
        "how can I change my card",
    ],
    "payment_extension": [
        "can i get an extension on my payment",
        "i need more time to pay my bill",
        "can I pay my bill late this month",
        "is it possible to get a payment extension",
        "extend my due date please",
        "can you extend the due date",
        "i cant pay until next week, can i get more time",
        "payment extension",
        "need extra time to pay",
    ],
    "paperless_billing": [
        "how do i switch to paperless billing",
        "stop sending me paper bills",
        "i want paperless billing",
        "turn on paperless billing",
        "can i get my bills by email instead of paper",
        "switch to e-bill",
        "no more paper bills please",
    ],
    "refund_overpayment": [
        "i paid twice, can i get a refund",
        "refund my overpayment",
        "I overpaid my bill, I want my money back",
        "how do i get a refund for a double payment",
        "refund please, i was charged twice for my payment",
        "can i get a refund",
    ],
}

UNRELATED = [
    "do you sell gift cards",
    "what's your mailing address for checks",
    "are you hiring",
    "my dog ate my modem",
    "what time does the store close",
    "can i pay in bitcoin",
    "who is the ceo",
    "is my data private",
]


def labelled_sample() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for label, group in PARAPHRASE_GROUPS.items():
        texts.extend(group)
        labels.extend([label] * len(group))
    for index, text in enumerate(UNRELATED):
        texts.append(text)
        labels.append(f"unrelated-{index}")
    return texts, labels


def pairwise_scores(clusters: list[list[int]], labels: list[str]) -> tuple[float, float]:
    """(precision, recall) over pairs of messages: of the pairs put together, how many belong
    together; of the pairs that belong together, how many were put together."""
    assigned = {index: c for c, members in enumerate(clusters) for index in members}
    together = same = both = 0
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            predicted = assigned[i] == assigned[j]
            actual = labels[i] == labels[j]
            together += predicted
            same += actual
            both += predicted and actual
    return (both / together if together else 1.0), (both / same if same else 1.0)
