import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/styles.css';
import { openPlaygroundPage } from '../shared/playground';
import { App } from './App';
import { mountInspector } from '../shared/inspector';

const page = openPlaygroundPage();
mountInspector(document.body, page.session);
const root = document.getElementById('app');
if (!root) throw new Error('#app is missing from index.html');
createRoot(root).render(
  <StrictMode>
    <App page={page} />
  </StrictMode>,
);
