// Builds the contracts crossbook deploys on its local chain that npm ships only as source:
// the 1inch Limit Order Protocol v4 and the ERC20 / wrapped-coin mocks from @1inch/solidity-utils.
// Usage: node evm/compile.js OUT.json   (writes {ContractName: {abi, bytecode}})
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const modules = path.join(__dirname, '..', 'node_modules');
// OpenZeppelin 5 for the 1inch sources, whatever version sits at the top of node_modules.
const searchPath = [
  path.join(modules, '@1inch/limit-order-protocol-contract/node_modules'),
  path.join(modules, '@1inch/solidity-utils/node_modules'),
  modules,
];
const entries = {
  LimitOrderProtocol: '@1inch/limit-order-protocol-contract/contracts/LimitOrderProtocol.sol',
  WrappedTokenMock: '@1inch/limit-order-protocol-contract/contracts/mocks/WrappedTokenMock.sol',
  TokenCustomDecimalsMock: '@1inch/solidity-utils/contracts/mocks/TokenCustomDecimalsMock.sol',
};

function findImport(name) {
  for (const dir of searchPath) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return { contents: fs.readFileSync(file, 'utf8') };
  }
  return { error: `not found: ${name}` };
}

const sources = {};
for (const file of Object.values(entries)) {
  const found = findImport(file);
  if (found.error) throw new Error(found.error);
  sources[file] = { content: found.contents };
}

// The settings the Limit Order Protocol is released with: via-IR, optimizer, Cancun.
const input = {
  language: 'Solidity',
  sources,
  settings: {
    viaIR: true,
    optimizer: { enabled: true, runs: 1000000 },
    evmVersion: 'cancun',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const built = {};
for (const [name, file] of Object.entries(entries)) {
  const contract = output.contracts[file][name];
  built[name] = { abi: contract.abi, bytecode: '0x' + contract.evm.bytecode.object };
}
fs.mkdirSync(path.dirname(path.resolve(process.argv[2])), { recursive: true });
fs.writeFileSync(process.argv[2], JSON.stringify(built));
console.log(`compiled ${Object.keys(built).join(', ')} with solc ${solc.version()}`);
