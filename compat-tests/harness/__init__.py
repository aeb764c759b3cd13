"""Compatibility-test harness for rzk.

`servers` starts/stops a real Apache ZooKeeper 3.8 or rzk on a loopback port;
`rawzk` is a tiny synchronous jute client for requests kazoo 2.8 cannot send
(addWatch, removeWatches, getEphemerals, whoAmI, containers, TTL, ...).
"""
