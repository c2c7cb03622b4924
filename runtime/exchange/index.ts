/** The exchange folder's public surface: the port, precision, the paper venue, the order gate and client ids. */
export * from './port.ts';
export * from './precision.ts';
export * from './paper.ts';
export * from './gate.ts';
export * from './clientId.ts';
