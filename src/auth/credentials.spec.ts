import { credentialOf } from './credentials.js';

describe('credentialOf', () => {
  it('takes the token from PRIVATE-TOKEN or from Authorization: Bearer', () => {
    expect(credentialOf({ 'private-token': 'abc' })).toEqual({ token: 'abc' });
    expect(credentialOf({ authorization: 'Bearer abc' })).toEqual({ token: 'abc' });
    expect(credentialOf({ authorization: 'bearer  abc ' })).toEqual({ token: 'abc' });
    expect(credentialOf({ authorization: 'BEARER a+b/c==' })).toEqual({ token: 'a+b/c==' });
    expect(credentialOf({ authorization: 'Bearer !odd#token' })).toEqual({ token: '!odd#token' });
  });

  it('accepts both headers when they carry the same token and refuses them when they differ', () => {
    expect(credentialOf({ 'private-token': 'abc', authorization: 'Bearer abc' })).toEqual({
      token: 'abc',
    });
    expect(credentialOf({ 'private-token': 'abc', authorization: 'Bearer xyz' })).toEqual({
      conflict: true,
    });
  });

  it('finds no token in other schemes, malformed Bearer values or empty headers', () => {
    expect(credentialOf({})).toEqual({ token: '' });
    expect(credentialOf({ authorization: 'Basic dXNlcjpwYXNz' })).toEqual({ token: '' });
    expect(credentialOf({ authorization: 'Bearer' })).toEqual({ token: '' });
    expect(credentialOf({ authorization: 'Bearer a b' })).toEqual({ token: '' });
    expect(credentialOf({ authorization: 'Bearerabc' })).toEqual({ token: '' });
    expect(credentialOf({ 'private-token': '  ' })).toEqual({ token: '' });
    // another scheme next to a PRIVATE-TOKEN is not a second credential
    expect(credentialOf({ 'private-token': 'abc', authorization: 'Basic xyz' })).toEqual({
      token: 'abc',
    });
  });
});
