"""Classifying redis-cli commands (one a line) by what they do to the data."""

from __future__ import annotations

import re

from expacti_cli.analysis.model import SqlKind, SqlStatement

_REDIS_READ = frozenset(
    """GET MGET KEYS SCAN SSCAN HSCAN ZSCAN INFO PING EXISTS TTL PTTL TYPE STRLEN HGET HGETALL
    HMGET HKEYS HVALS HLEN HEXISTS HSTRLEN LRANGE LLEN LINDEX LPOS SMEMBERS SCARD SISMEMBER
    SMISMEMBER SRANDMEMBER SINTER SUNION SDIFF ZRANGE ZRANGEBYSCORE ZRANGEBYLEX ZREVRANGE
    ZREVRANGEBYSCORE ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT DBSIZE MONITOR SLOWLOG
    MEMORY OBJECT DUMP XRANGE XREVRANGE XLEN XREAD XINFO XPENDING GETRANGE BITCOUNT BITPOS GETBIT
    PFCOUNT TIME LASTSAVE ECHO COMMAND SUBSCRIBE PSUBSCRIBE SSUBSCRIBE PUBSUB RANDOMKEY GEOPOS
    GEODIST GEOHASH GEORADIUS_RO GEOSEARCH LATENCY ROLE LOLWUT SUBSTR EXPIRETIME PEXPIRETIME
    TOUCH WAIT""".split()
)
_REDIS_SESSION = frozenset(
    "SELECT AUTH MULTI EXEC DISCARD WATCH UNWATCH HELLO QUIT RESET READONLY READWRITE "
    "UNSUBSCRIBE PUNSUBSCRIBE ASKING".split()
)
_REDIS_WRITE = frozenset(
    """SET SETEX SETNX PSETEX MSET MSETNX APPEND INCR INCRBY DECR DECRBY INCRBYFLOAT GETSET
    GETDEL GETEX DEL UNLINK EXPIRE PEXPIRE EXPIREAT PEXPIREAT PERSIST RENAME RENAMENX HSET HMSET
    HSETNX HDEL HINCRBY HINCRBYFLOAT LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LSET LREM LTRIM LINSERT
    RPOPLPUSH LMOVE BLPOP BRPOP BLMOVE SADD SREM SPOP SMOVE SINTERSTORE SUNIONSTORE SDIFFSTORE
    ZADD ZREM ZINCRBY ZREMRANGEBYSCORE ZREMRANGEBYRANK ZREMRANGEBYLEX ZPOPMIN ZPOPMAX BZPOPMIN
    BZPOPMAX ZUNIONSTORE ZINTERSTORE ZRANGESTORE XADD XDEL XTRIM XACK XCLAIM XAUTOCLAIM XGROUP
    XSETID PUBLISH SPUBLISH SETRANGE SETBIT BITOP BITFIELD PFADD PFMERGE GEOADD GEORADIUS
    RESTORE COPY MOVE SORT MIGRATE""".split()
)
_REDIS_DDL = frozenset(
    "CONFIG ACL SCRIPT FUNCTION CLIENT SLAVEOF REPLICAOF MODULE BGSAVE SAVE BGREWRITEAOF "
    "CLUSTER FAILOVER SWAPDB".split()
)
_REDIS_DESTRUCTIVE = frozenset({"FLUSHALL", "FLUSHDB", "SHUTDOWN"})
_REDIS_READ_SUB = {
    "CONFIG": frozenset({"GET", "HELP"}),
    "CLIENT": frozenset({"LIST", "INFO", "GETNAME", "ID", "HELP"}),
    "ACL": frozenset({"LIST", "USERS", "WHOAMI", "GETUSER", "CAT", "LOG", "HELP"}),
    "SCRIPT": frozenset({"EXISTS", "HELP"}),
    "FUNCTION": frozenset({"LIST", "STATS", "DUMP", "HELP"}),
    "CLUSTER": frozenset({"INFO", "NODES", "SLOTS", "SHARDS", "MYID", "KEYSLOT", "HELP"}),
}
_REDIS_DESTRUCTIVE_SUB = {"SCRIPT": frozenset({"FLUSH"}), "FUNCTION": frozenset({"FLUSH"})}
_REDIS_SPLIT = re.compile(r'"(?:[^"\\]|\\.)*"?|\'[^\']*\'?|\S+')


def redis_words(line: str) -> list[str]:
    """Split a redis-cli line into words, quotes removed."""
    out = []
    for m in _REDIS_SPLIT.finditer(line):
        w = m.group()
        if len(w) >= 2 and w[0] in "\"'" and w[-1] == w[0]:
            w = w[1:-1]
        out.append(w)
    return out


def classify_redis_command(words: list[str], text: str) -> SqlStatement:
    """One redis command (already split into words)."""
    if not words:
        return SqlStatement(SqlKind.UNKNOWN, "", text)
    verb = words[0].upper()
    sub = words[1].upper() if len(words) > 1 else ""
    target = words[1] if len(words) > 1 else ""
    if verb in _REDIS_DESTRUCTIVE:
        return SqlStatement(SqlKind.DESTRUCTIVE, verb, text)
    if verb in _REDIS_DESTRUCTIVE_SUB and sub in _REDIS_DESTRUCTIVE_SUB[verb]:
        return SqlStatement(SqlKind.DESTRUCTIVE, f"{verb} {sub}", text)
    if verb in _REDIS_DDL:
        if sub in _REDIS_READ_SUB.get(verb, frozenset()):
            return SqlStatement(SqlKind.READ, f"{verb} {sub}", text)
        return SqlStatement(SqlKind.DDL, f"{verb} {sub}".strip(), text)
    if verb in _REDIS_READ:
        return SqlStatement(SqlKind.READ, verb, text, target)
    if verb in _REDIS_SESSION:
        return SqlStatement(SqlKind.SESSION, verb, text)
    if verb in _REDIS_WRITE:
        return SqlStatement(SqlKind.WRITE_WHERE, verb, text, target)
    return SqlStatement(SqlKind.UNKNOWN, verb, text)


def classify_redis(text: str) -> tuple[SqlStatement, ...]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(classify_redis_command(redis_words(line), line))
    return tuple(out)
