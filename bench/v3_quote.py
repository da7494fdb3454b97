"""Uniswap V3 quotes: crossbook's Python pool math next to eth_call to QuoterV2, in one run.

    python bench/v3_quote.py [--positions N] [--calls N] [--quotes N] [--seconds S] [--json]

An anvil on 127.0.0.1 gets the real Uniswap V3 contracts and one WBTC/USDT 0.05% pool seeded with
``--positions`` overlapping positions (so hundreds of initialized ticks). Its state is read once
over the whole tick range (TickLens, one call per bitmap word; the time is reported). Then, on the
same inputs: an exact-input quote that stays within one tick (0.001 WBTC) and one that crosses
many initialized ticks, in both directions, each quoted by the Python math (``--quotes`` times,
at most ``--seconds``) and by eth_call to QuoterV2 (``--calls`` sequential calls, then the same
number 16 at a time). Both must give the same amount out, price after and ticks crossed, to the
wei, or the benchmark stops. The Python figures are with ``sqrt_ratio_at_tick``'s cache warm, as
it is when one pool is quoted repeatedly.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import time
from typing import Any

import orjson

from crossbook.sim.chain import Anvil, LocalChain
from crossbook.venues.dex import v3math
from crossbook.venues.dex.evm import fn
from crossbook.venues.dex.uniswap_v3 import read_pool_state

QUOTE_IN = fn("quoteExactInputSingle((address,address,uint256,uint24,uint160))", "uint256,uint160,uint32,uint256")
PRICE = 60_000.0
DEPTH_USDT = 4_000_000.0
FEE = 500
CONCURRENCY = 16


def python_rate(state: v3math.PoolState, zero_for_one: bool, amount: int, quotes: int, seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while done < quotes:
        v3math.quote_exact_input(state, zero_for_one, amount)
        done += 1
        if done % 64 == 0 and time.perf_counter() > deadline:
            break
    return done / (time.perf_counter() - start)


async def quoter_rates(c: LocalChain, params: tuple[Any, ...], calls: int) -> tuple[float, float, tuple[Any, ...]]:
    quoter = c.addresses["quoter_v2"]
    start = time.perf_counter()
    for _ in range(calls):
        answer = await c.evm.call(quoter, QUOTE_IN, params)
    sequential = calls / (time.perf_counter() - start)
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one() -> tuple[Any, ...]:
        async with limit:
            return await c.evm.call(quoter, QUOTE_IN, params)

    start = time.perf_counter()
    answers = await asyncio.gather(*(one() for _ in range(calls)))
    concurrent = calls / (time.perf_counter() - start)
    if any(a != answer for a in answers):
        raise SystemExit("QuoterV2 answered the same call differently")
    return sequential, concurrent, answer


async def measure(positions: int, calls: int, quotes: int, seconds: float) -> dict[str, Any]:
    with Anvil() as anvil:
        async with await LocalChain.deployed(anvil) as c:
            wbtc = await c.deploy_token("WBTC", 8)
            usdt = await c.deploy_token("USDT", 6)
            start = time.perf_counter()
            pool = await c.seed_pool(wbtc, usdt, FEE, PRICE, DEPTH_USDT, positions=positions, seed=3)
            seeded = time.perf_counter() - start
            start = time.perf_counter()
            state = await read_pool_state(c.evm, pool.address, tick_range=None, tick_lens=c.addresses["tick_lens"])
            read_ms = (time.perf_counter() - start) * 1e3
            wbtc_is_0 = pool.token0 is wbtc
            cases = [
                ("sell 0.001 WBTC", wbtc_is_0, wbtc, usdt, 10**5),
                ("sell 40 WBTC", wbtc_is_0, wbtc, usdt, 40 * 10**8),
                ("buy with 60 USDT", not wbtc_is_0, usdt, wbtc, 60 * 10**6),
                ("buy with 2.4M USDT", not wbtc_is_0, usdt, wbtc, 2_400_000 * 10**6),
            ]
            rows = []
            for label, zero_for_one, token_in, token_out, amount in cases:
                ours = v3math.quote_exact_input(state, zero_for_one, amount)
                params = (token_in.address, token_out.address, amount, FEE, 0)
                sequential, concurrent, (out, sqrt_after, crossed, gas) = await quoter_rates(c, params, calls)
                if (ours.amount_out, ours.sqrt_price_after, ours.ticks_crossed) != (out, sqrt_after, crossed):
                    raise SystemExit(f"{label}: python {ours} differs from QuoterV2 {(out, sqrt_after, crossed)}")
                python = python_rate(state, zero_for_one, amount, quotes, seconds)
                rows.append({
                    "case": label, "ticks_crossed": crossed, "amount_out": out, "quoter_gas": gas,
                    "python_per_s": python, "quoter_per_s": sequential, "quoter_concurrent_per_s": concurrent,
                    "ratio": python / sequential, "ratio_concurrent": python / concurrent,
                })
            return {
                "pool": {"fee": FEE, "positions": positions, "initialized_ticks": len(state.ticks),
                         "bitmap_words_read": state.words[1] - state.words[0] + 1 if state.words else 0,
                         "seed_s": seeded, "state_read_ms": read_ms},
                "rows": rows,
                "host": f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}",
            }


def report(result: dict[str, Any]) -> None:
    pool = result["pool"]
    print(f"Uniswap V3 exact-input quotes, WBTC/USDT {pool['fee'] / 1e4:.2f}% pool with {pool['positions']} positions, "
          f"{pool['initialized_ticks']} initialized ticks ({result['host']})")
    print(f"state read over the whole tick range: {pool['bitmap_words_read']} bitmap words via TickLens in {pool['state_read_ms']:.0f} ms")
    print(f"{'case':<20}{'ticks':>6}{'python/s':>12}{'quoter/s':>11}{'ratio':>9}{'quoter x16/s':>14}{'ratio':>9}")
    for r in result["rows"]:
        print(f"{r['case']:<20}{r['ticks_crossed']:>6}{r['python_per_s']:>12,.0f}{r['quoter_per_s']:>11,.0f}"
              f"{r['ratio']:>8.1f}x{r['quoter_concurrent_per_s']:>14,.0f}{r['ratio_concurrent']:>8.1f}x")
    print("every case: python amount out, sqrt price after and ticks crossed == QuoterV2's, to the wei")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=240, help="positions seeded into the pool")
    parser.add_argument("--calls", type=int, default=200, help="eth_calls to QuoterV2 per case")
    parser.add_argument("--quotes", type=int, default=20_000, help="Python quotes per case (at most)")
    parser.add_argument("--seconds", type=float, default=5.0, help="time cap for the Python quotes per case")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.positions <= 0 or args.calls <= 0 or args.quotes <= 0 or args.seconds <= 0:
        parser.error("--positions, --calls, --quotes and --seconds must be positive")
    result = asyncio.run(measure(args.positions, args.calls, args.quotes, args.seconds))
    if args.json:
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
    else:
        report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
