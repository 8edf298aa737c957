"""Pub/sub fan-out: the in-process hub and Redis (what two replicas share)."""

from __future__ import annotations

import asyncio

import pytest

from handoff.pubsub import InProcessPubSub, RedisPubSub, conversation_channel, make_pubsub


async def _fan_out(first, second) -> None:
    channel = conversation_channel("pubsub-test")
    subscription_a = await first.subscribe(channel)
    subscription_b = await second.subscribe(channel, "handoff:other")
    await asyncio.sleep(0.2)
    await first.publish(channel, {"kind": "message", "frame": {"seq": 1}})
    got_a = await asyncio.wait_for(anext(aiter(subscription_a)), 5)
    got_b = await asyncio.wait_for(anext(aiter(subscription_b)), 5)
    assert got_a == got_b == {"kind": "message", "frame": {"seq": 1}}
    await subscription_a.close()
    await subscription_b.close()


async def test_in_process_fan_out():
    hub = InProcessPubSub()
    await _fan_out(hub, hub)
    with pytest.raises(ValueError):
        make_pubsub("kafka://nope")


@pytest.mark.redis
async def test_redis_fan_out_between_two_replicas():
    replica_one, replica_two = RedisPubSub("redis://127.0.0.1:6379/0"), RedisPubSub("redis://127.0.0.1:6379/0")
    try:
        await _fan_out(replica_one, replica_two)
    finally:
        await replica_one.close()
        await replica_two.close()
