"""Simulated dYdX v4: the indexer, a full node's REST (LCD) and its CometBFT RPC on one server.

Market data (indexer): REST ``/v4/perpetualMarkets`` and ``/v4/orderbooks/perpetualMarket/{ticker}``,
and the WebSocket ``/v4/ws`` with a ``connected`` greeting, ``subscribe``/``unsubscribe`` for
``v4_orderbook`` and ``v4_trades`` (plain or ``batched``), ``subscribed`` answers carrying the
initial state, ``unsubscribed`` acks, ``error`` frames, and protocol pings every 30 s.

As the real indexer (indexer/services/socks in dydxprotocol/v4-chain) does, ``message_id`` is
one counter per connection: a subscribe request takes its id on arrival but is answered only
after the initial state is fetched, so ``subscribed`` frames come late, out of id order; errors
about a malformed request repeat the current id; more than 2 subscribes to one channel and id
within a second are answered with an error and a closed socket. Each tick's book change goes
out as one message per side (the indexer sends one per order update), so a client sees its
book cross for a moment when the price moves up past the old best ask.

Trading, as ccxt calls it: there is no API key. An account is a secp256k1 key and its bech32
``dydx1...`` address; the node serves ``/cosmos/auth/v1beta1/account_info/{address}`` (account
number, public key), ``/abci_info`` (block height, one block a second) and
``/broadcast_tx_sync?tx=0x<TxRaw>``, which checks a transaction as the chain's CheckTx does
(message ValidateBasic, signer account and public key, timestamp nonce unless every message is
short-term, the SIGN_MODE_DIRECT signature over the SignDoc with chain id ``dydx-mainnet-1``)
and answers Cosmos error codes and logs in ``result``. ``MsgPlaceOrder`` becomes an engine
order: long-term (GTT) and short-term (goodTilBlock) limits, IOC, post-only, reduce-only IOC and
stop-loss conditionals; ``MsgCancelOrder`` cancels. The indexer serves the subaccount
(``/v4/addresses/{address}/subaccountNumber/0``, USDC collateral, perpetual positions at the
market's initial margin fraction), ``/v4/orders``, ``/v4/orders/{id}`` under the indexer's uuid
and ``/v4/fills``. Orders the chain accepts and then removes (a short-term order that would
leave the subaccount undercollateralized, a post-only order that would cross) are listed as
canceled, ``BEST_EFFORT_CANCELED`` while a short-term order's goodTilBlock has not passed.

Private stream (indexer): ``v4_subaccounts`` on the same socket, id ``{address}/{subaccountNumber}``,
no signature (the indexer streams any subaccount). ``subscribed`` carries the subaccount, its open
orders and ``blockHeight``; then every engine event of the account is one ``channel_data`` with
``orders`` (the REST order shape, same uuid, ``clientId`` the uint32 client id) and, for a fill,
``fills`` (the REST fill shape plus ``subaccountId``, ``clobPairId``, ``ticker``, ``quoteAmount``).
Positions and asset updates are not pushed.

Fault ``skip``: the next message for the symbol on each connection skips one message_id.
"""

from __future__ import annotations

from ...server import SimVenue
from .chain import DydxSim
from .indexer import DydxIndexer
from .wire import CHAIN_ID, HEIGHT_EPOCH, order_uuid, subaccount_uuid

SIMS: dict[str, type[SimVenue]] = {
    "dydx": DydxSim,
}

__all__ = ["CHAIN_ID", "HEIGHT_EPOCH", "SIMS", "DydxIndexer", "DydxSim", "order_uuid", "subaccount_uuid"]
