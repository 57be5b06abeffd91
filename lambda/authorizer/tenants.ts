/** The tenant of personal Microsoft accounts: part of `common`, never of `organizations`. */
export const CONSUMERS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';
