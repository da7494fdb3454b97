"""The local chain: anvil on 127.0.0.1 with the real Uniswap V3 contracts (both SwapRouter and
SwapRouter02) and the 1inch Limit Order Protocol deployed, test tokens, and pools seeded with
liquidity over many initialized ticks.

Everything comes from the npm packages in package.json (``npm ci`` at the project root): anvil's
binary, Uniswap's compiled artifacts as published, and the 1inch sources, compiled once by
``evm/compile.js`` (solc-js) into a cache outside the repository.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import to_checksum_address

from ..errors import CrossbookError
from ..venues.dex.evm import ALLOWANCE, APPROVE, MAX_UINT, TRANSFER_TOPIC, Evm, Wallet, fn
from ..venues.dex.uniswap_v3_exec import GET_POOL

ANVIL_PACKAGE = "@foundry-rs/anvil-linux-amd64/bin/anvil"
UNISWAP_ARTIFACTS = {
    "UniswapV3Factory": "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
    "SwapRouter": "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json",
    "SwapRouter02": "@uniswap/swap-router-contracts/artifacts/contracts/SwapRouter02.sol/SwapRouter02.json",
    "QuoterV2": "@uniswap/v3-periphery/artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json",
    "TickLens": "@uniswap/v3-periphery/artifacts/contracts/lens/TickLens.sol/TickLens.json",
    "NonfungiblePositionManager": (
        "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json"
    ),
}
COMPILED = ("LimitOrderProtocol", "WrappedTokenMock", "TokenCustomDecimalsMock")
FEE_TIERS = {500: 10, 3000: 60, 10000: 200}  # fee (hundredths of a bip) -> tick spacing
MIN_TICK, MAX_TICK = -887272, 887272
GAS_PER_BLOCK = 30_000_000
NO_V2_FACTORY = "0x" + "00" * 20
MINT_GAS = 1_000_000  # a position mint's ceiling: set, so anvil does not search for an estimate each time

CREATE_POOL = fn("createAndInitializePoolIfNecessary(address,address,uint24,uint160)", "address")
MINT_POSITION = fn(
    "mint((address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256))",
    "uint256,uint128,uint256,uint256",
)
TOKEN_MINT = fn("mint(address,uint256)")
INCREASE_CARDINALITY = fn("increaseObservationCardinalityNext(uint16)")


class NodeMissing(CrossbookError):
    """The local chain needs node's packages (``npm ci`` at the project root) and they are not there."""


@dataclass(frozen=True, slots=True)
class Token:
    address: str
    symbol: str
    decimals: int

    def raw(self, amount: float) -> int:
        return round(amount * 10**self.decimals)


@dataclass(frozen=True, slots=True)
class Pool:
    address: str
    token0: Token
    token1: Token
    fee: int

    @property
    def tick_spacing(self) -> int:
        return FEE_TIERS[self.fee]


def node_modules() -> Path:
    """The project's node_modules: ``CROSSBOOK_NODE_MODULES``, else beside the working directory or
    any parent of it or of this package."""
    configured = os.environ.get("CROSSBOOK_NODE_MODULES")
    if configured:
        if not (Path(configured) / ANVIL_PACKAGE).exists():
            raise NodeMissing(f"CROSSBOOK_NODE_MODULES={configured} has no anvil: run `npm ci` at the project root")
        return Path(configured)
    here = Path(__file__).resolve()
    for start in (Path.cwd(), *here.parents):
        for folder in (start, *start.parents):
            candidate = folder / "node_modules"
            if (candidate / ANVIL_PACKAGE).exists():
                return candidate
    raise NodeMissing("node packages not found: run `npm ci` at the project root (needs node and npm)")


def chain_available() -> bool:
    try:
        node_modules()
    except NodeMissing:
        return False
    return shutil.which("node") is not None


@cache
def artifact(name: str) -> dict[str, Any]:
    """ABI and creation bytecode of a contract the local chain deploys."""
    if name in UNISWAP_ARTIFACTS:
        data = json.loads((node_modules() / UNISWAP_ARTIFACTS[name]).read_text())
        return {"abi": data["abi"], "bytecode": data["bytecode"]}
    if name in COMPILED:
        return compiled_contracts()[name]
    raise KeyError(name)


@cache
def compiled_contracts() -> dict[str, dict[str, Any]]:
    """The contracts npm ships as source, compiled by ``evm/compile.js`` once per source version
    into ``$XDG_CACHE_HOME/crossbook/evm`` (never into the repository)."""
    modules = node_modules()
    script = modules.parent / "evm" / "compile.js"
    cache_file = _cache_dir() / f"contracts-{_sources_digest(modules, script)}.json"
    if not cache_file.exists():
        node = shutil.which("node")
        if node is None:
            raise NodeMissing("node is not on PATH: the 1inch contracts are compiled with solc-js")
        partial = cache_file.with_suffix(f".{os.getpid()}.tmp")
        done = subprocess.run([node, str(script), str(partial)], capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise CrossbookError(f"compiling the 1inch contracts failed: {done.stderr.strip()[-500:]}")
        partial.replace(cache_file)
    return dict(json.loads(cache_file.read_text()))


def _cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "crossbook" / "evm"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sources_digest(modules: Path, script: Path) -> str:
    digest = hashlib.sha256(script.read_bytes())
    for package in ("@1inch/limit-order-protocol-contract", "@1inch/solidity-utils", "solc"):
        digest.update((modules / package / "package.json").read_bytes())
    return digest.hexdigest()[:16]


def sqrt_price_x96(raw_price: float) -> int:
    """sqrtPriceX96 for a price of token0 in token1, both in raw units."""
    return math.isqrt(int(raw_price * 2**192))


def tick_of(raw_price: float) -> int:
    return math.floor(math.log(raw_price) / math.log(1.0001))


class Anvil:
    """The anvil process on a free loopback port (auto-mining every transaction unless
    ``block_time``). Synchronous, so one chain can outlive the event loops that use it."""

    def __init__(self, block_time: float | None = None, chain_id: int = 31337) -> None:
        self.chain_id = chain_id
        args = [str(node_modules() / ANVIL_PACKAGE), "--host", "127.0.0.1", "--port", "0", "--chain-id", str(chain_id),
                "--accounts", "10", "--gas-limit", str(GAS_PER_BLOCK), "--code-size-limit", "50000"]
        if block_time is not None:
            args += ["--block-time", str(block_time)]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self.rpc_url, self.keys = _read_banner(self.process, timeout=30.0)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Anvil:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Deployment:
    """What is on a local chain: plain data, so any event loop can attach to it."""

    rpc_url: str
    keys: list[str]
    chain_id: int = 31337
    addresses: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    pools: dict[tuple[str, str, int], Pool] = field(default_factory=dict)


class LocalChain:
    """A client of a local chain bound to the running event loop: deploys Uniswap V3, tokens,
    pools and positions. ``wallet`` (anvil's first dev key) deploys, owns the test tokens and
    provides liquidity; the other keys are funded with ether for tests and the demo."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.rpc_url = deployment.rpc_url
        self.keys = deployment.keys
        self.chain_id = deployment.chain_id
        self.addresses = deployment.addresses
        self.tokens = deployment.tokens
        self.pools = deployment.pools
        self.evm = Evm(self.rpc_url)
        self._wallets: dict[str, Wallet] = {}
        self._approved: set[tuple[str, str, str]] = set()
        self.wallet = self.wallet_for(self.keys[0])

    def wallet_for(self, key: str) -> Wallet:
        """One wallet per key, so this client never races itself for a nonce."""
        if key not in self._wallets:
            self._wallets[key] = Wallet(self.evm, key)
        return self._wallets[key]

    @classmethod
    async def deployed(cls, anvil: Anvil) -> LocalChain:
        """Uniswap V3 deployed on a fresh anvil; the deployment's chain id is the one the chain reports."""
        chain = cls(Deployment(anvil.rpc_url, anvil.keys))
        chain.chain_id = chain.deployment.chain_id = await chain.evm.chain_id()
        await chain.deploy_uniswap()
        return chain

    async def close(self) -> None:
        await self.evm.close()

    async def __aenter__(self) -> LocalChain:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- deployment -------------------------------------------------------------------------

    async def deploy(self, name: str, constructor_types: list[str] | None = None, *args: Any) -> str:
        data = bytes.fromhex(artifact(name)["bytecode"][2:])
        if constructor_types:
            data += abi_encode(constructor_types, list(args))
        outcome = await self.wallet.send(None, data, gas=GAS_PER_BLOCK // 2)
        receipt = await self.evm.w3.eth.get_transaction_receipt(outcome.tx_hash)  # type: ignore[arg-type]
        if receipt["contractAddress"] is None:
            raise CrossbookError(f"deploying {name} created no contract")
        return to_checksum_address(receipt["contractAddress"])

    async def deploy_uniswap(self) -> None:
        # The 1inch mock stands in for WETH9: deposit() and receive() wrap, withdraw() unwraps by
        # transfer() to the caller (the routers' receive() fits its 2,300 gas), and it emits WETH9's
        # Deposit/Withdrawal events.
        weth = await self.deploy("WrappedTokenMock", ["string", "string"], "Wrapped Ether", "WETH")
        factory = await self.deploy("UniswapV3Factory")
        self.addresses.update(
            weth=weth,
            factory=factory,
            swap_router=await self.deploy("SwapRouter", ["address", "address"], factory, weth),
            quoter_v2=await self.deploy("QuoterV2", ["address", "address"], factory, weth),
            tick_lens=await self.deploy("TickLens"),
            position_manager=await self.deploy(
                "NonfungiblePositionManager", ["address", "address", "address"], factory, weth, "0x" + "00" * 20
            ),
        )
        # No Uniswap V2 factory is deployed: crossbook trades SwapRouter02's V3 paths only and never
        # calls its V2 functions (swapExactTokensForTokens, ...), so the V2 factory is a placeholder.
        # Constructor (factoryV2, factoryV3, positionManager, WETH9):
        # https://github.com/Uniswap/swap-router-contracts/blob/main/contracts/SwapRouter02.sol
        self.addresses["swap_router02"] = await self.deploy(
            "SwapRouter02", ["address", "address", "address", "address"],
            NO_V2_FACTORY, factory, self.addresses["position_manager"], weth,
        )
        self.tokens["WETH"] = Token(weth, "WETH", 18)

    async def deploy_limit_order_protocol(self) -> str:
        """The 1inch Limit Order Protocol v4, built from its npm sources, over this chain's WETH."""
        if "limit_order_protocol" not in self.addresses:
            self.addresses["limit_order_protocol"] = await self.deploy("LimitOrderProtocol", ["address"], self.addresses["weth"])
        return self.addresses["limit_order_protocol"]

    async def deploy_token(self, symbol: str, decimals: int) -> Token:
        address = await self.deploy("TokenCustomDecimalsMock", ["string", "string", "uint256", "uint8"], symbol, symbol, 0, decimals)
        token = Token(address, symbol, decimals)
        self.tokens[symbol] = token
        return token

    async def mint(self, token: Token, to: str, amount_raw: int) -> None:
        await self.wallet.send(token.address, TOKEN_MINT.encode(to_checksum_address(to), amount_raw))

    async def fund(self, token: Token, key: str, amount_raw: int, spenders: tuple[str, ...] = ()) -> None:
        """Mint ``amount_raw`` to the key's address (WETH is wrapped from the key's ether) and, for
        each named spender, approve it without limit from that key."""
        wallet = self.wallet_for(key)
        if token.symbol == "WETH":
            await wallet.send(token.address, fn("deposit()").encode(), value=amount_raw)
        else:
            await self.mint(token, wallet.address, amount_raw)
        for spender in spenders:
            await wallet.send(token.address, APPROVE.encode(self.addresses.get(spender, spender), MAX_UINT))

    # --- pools ------------------------------------------------------------------------------

    async def create_pool(self, base: Token, quote: Token, fee: int, price: float) -> Pool:
        """A pool of ``base`` against ``quote`` initialized at ``price`` (quote per base, human units)."""
        token0, token1 = sorted((base, quote), key=lambda t: int(t.address, 16))
        raw = price * 10**quote.decimals / 10**base.decimals
        raw_price = raw if token0 is base else 1 / raw
        await self.wallet.send(
            self.addresses["position_manager"],
            CREATE_POOL.encode(token0.address, token1.address, fee, sqrt_price_x96(raw_price)),
        )
        (address,) = await self.evm.call(self.addresses["factory"], GET_POOL, token0.address, token1.address, fee)
        pool = Pool(to_checksum_address(address), token0, token1, fee)
        self.pools[(base.symbol, quote.symbol, fee)] = pool
        return pool

    async def add_position(self, pool: Pool, tick_lower: int, tick_upper: int, amount0: int, amount1: int,
                           key: str | None = None, funded: bool = False) -> int:
        """Mint a position through NonfungiblePositionManager (the tokens minted to the owner first
        unless ``funded``); returns the position's token id."""
        owner = self.wallet_for(key) if key else self.wallet
        for token, amount in ((pool.token0, amount0), (pool.token1, amount1)):
            if amount and not funded:
                await self.fund(token, key or self.keys[0], amount)
        await self._approve_once(owner, pool.token0, "position_manager")
        await self._approve_once(owner, pool.token1, "position_manager")
        deadline = await self.evm.timestamp() + 3600
        params = (
            pool.token0.address, pool.token1.address, pool.fee, tick_lower, tick_upper, amount0, amount1, 0, 0, owner.address, deadline
        )
        outcome = await owner.send(self.addresses["position_manager"], MINT_POSITION.encode(params), gas=MINT_GAS)
        for log in outcome.logs:
            topics = log["topics"]
            if log["address"] == self.addresses["position_manager"] and bytes(topics[0]) == TRANSFER_TOPIC:
                return int.from_bytes(bytes(topics[3]), "big")
        raise CrossbookError("position manager minted no position")

    async def seed_pool(
        self, base: Token, quote: Token, fee: int, price: float, depth_quote: float, positions: int = 40, seed: int = 7
    ) -> Pool:
        """A pool at ``price`` with ``positions`` overlapping ranges around it (so many initialized
        ticks, denser near the price), about ``depth_quote`` of quote value in all."""
        pool = await self.create_pool(base, quote, fee, price)
        await self.wallet.send(pool.address, INCREASE_CARDINALITY.encode(64))
        await self.add_liquidity_around(pool, base, price, depth_quote, positions, seed)
        return pool

    async def add_liquidity_around(self, pool: Pool, base: Token, price: float, depth_quote: float, positions: int,
                                   seed: int, spread: float = 40.0, widths: tuple[int, ...] = (2, 4, 8, 20, 60, 200)) -> None:
        """``positions`` ranges centred within about ``spread`` tick spacings of ``price`` (quote per
        base), each ``widths`` spacings either side, worth ``depth_quote`` of quote value in all."""
        quote = pool.token1 if pool.token0 is base else pool.token0
        spacing = pool.tick_spacing
        raw = price * 10**quote.decimals / 10**base.decimals
        current = tick_of(raw if pool.token0 is base else 1 / raw)
        rng = random.Random(seed)
        per_position = depth_quote / positions
        for token in (base, quote):
            value = depth_quote / price if token is base else depth_quote
            await self.fund(token, self.keys[0], token.raw(value))
        for _ in range(positions):
            width = rng.choice(widths) * spacing
            centre = current + int(rng.gauss(0, spread)) * spacing
            lower = max(MIN_TICK // spacing * spacing + spacing, (centre - width) // spacing * spacing)
            upper = min(MAX_TICK // spacing * spacing, (centre + width) // spacing * spacing + spacing)
            amount0, amount1 = self._amounts_for(pool, base, quote, price, per_position, lower, upper, current)
            await self.add_position(pool, lower, upper, amount0, amount1, funded=True)

    def _amounts_for(self, pool: Pool, base: Token, quote: Token, price: float, value: float,
                     lower: int, upper: int, current: int) -> tuple[int, int]:
        """Token amounts worth about ``value`` in quote for a range: one-sided outside the price,
        both sides (generously; the manager takes what the range needs) inside it."""
        base_raw, quote_raw = base.raw(value / price), quote.raw(value)
        base_is_0 = pool.token0 is base
        amount0, amount1 = (base_raw, quote_raw) if base_is_0 else (quote_raw, base_raw)
        if current < lower:
            return amount0, 0
        if current >= upper:
            return 0, amount1
        return amount0, amount1

    async def _approve_once(self, owner: Wallet, token: Token, spender: str) -> None:
        if (owner.address, token.address, spender) in self._approved:
            return
        (current,) = await self.evm.call(token.address, ALLOWANCE, owner.address, self.addresses[spender])
        if current < MAX_UINT // 2:
            await owner.send(token.address, APPROVE.encode(self.addresses[spender], MAX_UINT))
        self._approved.add((owner.address, token.address, spender))

    # --- time -------------------------------------------------------------------------------

    async def advance(self, seconds: int) -> None:
        """Move the chain's clock forward and mine a block."""
        await self.evm.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        await self.evm.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    async def snapshot(self) -> str:
        return str((await self.evm.w3.provider.make_request("evm_snapshot", []))["result"])  # type: ignore[arg-type]

    async def revert(self, snapshot_id: str) -> None:
        await self.evm.w3.provider.make_request("evm_revert", [snapshot_id])  # type: ignore[arg-type]
        for wallet in self._wallets.values():
            wallet.reset_nonce()
        self._approved.clear()


def _read_banner(process: subprocess.Popen[bytes], timeout: float) -> tuple[str, list[str]]:
    """anvil's start-up banner: its dev private keys, then ``Listening on host:port``. Its output
    is drained afterwards by a thread, so the pipe never fills and stalls anvil."""
    assert process.stdout is not None
    stdout = process.stdout
    found: dict[str, Any] = {"keys": []}

    def read() -> None:
        for raw in stdout:
            line = raw.decode(errors="replace").strip()
            key = re.match(r"\(\d+\) (0x[0-9a-f]{64})$", line)
            if key:
                found["keys"].append(key.group(1))
            listening = re.search(r"Listening on (\S+)", line)
            if listening and "url" not in found:
                found["url"] = f"http://{listening.group(1)}"
                ready.set()
        ready.set()

    ready = threading.Event()
    threading.Thread(target=read, name="anvil-output", daemon=True).start()
    if not ready.wait(timeout) or "url" not in found:
        raise CrossbookError(f"anvil did not start listening within {timeout:.0f} s")
    return found["url"], found["keys"]


# The tokens and pools the tests and the demo trade on: WBTC and WETH against USDT and USDC at the
# simulator's starting prices, WBTC/USDT in all three fee tiers, and WBTC/WETH for multi-hop paths.
MARKET_TOKENS = {"WBTC": 8, "USDT": 6, "USDC": 6}
MARKET_POOLS: tuple[tuple[str, str, int, float], ...] = (
    ("WBTC", "USDT", 500, 4_000_000.0),
    ("WBTC", "USDT", 3000, 2_000_000.0),
    ("WBTC", "USDT", 10000, 600_000.0),
    ("WETH", "USDT", 3000, 2_000_000.0),
    ("WBTC", "USDC", 3000, 1_000_000.0),
    ("WBTC", "WETH", 3000, 1_000_000.0),
)
UNDERLYING = {"WBTC": "BTC", "WETH": "ETH"}


async def seed_market(chain: LocalChain, usd_prices: dict[str, float], positions: int = 40) -> None:
    """Deploy the market's tokens and seed its pools at ``usd_prices`` (keyed BTC, ETH, USDT, ...)."""
    for symbol, decimals in MARKET_TOKENS.items():
        if symbol not in chain.tokens:
            await chain.deploy_token(symbol, decimals)
    for n, (base, quote, fee, depth) in enumerate(MARKET_POOLS):
        price = usd_prices[UNDERLYING.get(base, base)] / usd_prices[UNDERLYING.get(quote, quote)]
        depth_quote = depth / usd_prices[UNDERLYING.get(quote, quote)]
        await chain.seed_pool(chain.tokens[base], chain.tokens[quote], fee, price, depth_quote, positions, seed=n)


if __name__ == "__main__":
    # Set-up step: compile the contracts npm ships only as source, so tests and the demo find them cached.
    print(f"{', '.join(compiled_contracts())} ready in {_cache_dir()}")  # noqa: T201 - the set-up step reports to its caller
