import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeWithTable } from '../../../tools/docs/environment';

const root = join(__dirname, '../../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('README.md', () => {
  it('begins with exactly two command lines: bring the platform up, run the tests', () => {
    const [fence, up, test, close] = readme.split('\n');
    expect([fence, up, test, close]).toEqual(['```sh', 'infra/local/platform up', 'infra/local/platform test', '```']);
  });

  it('.ci/run runs the README test command verbatim', () => {
    const ci = readFileSync(join(root, '.ci/run'), 'utf8').split('\n').filter((line) => line.trim() && !line.startsWith('#'));
    expect(ci).toContain('infra/local/platform test');
  });

  it('lists every environment variable the services read, with its default (npm run docs:env -- --write)', () => {
    expect(readme).toBe(readmeWithTable(readme));
  });
});
