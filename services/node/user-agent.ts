import { VERSION } from '../../shared/version.ts';

/** What this node tells peers it is (hello.userAgent, getnetworkinfo.subversion). */
export const USER_AGENT = `cairnd/${VERSION}`;
