import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/styles.css';
import { openPlaygroundPage } from '../shared/playground';
import { App } from './App';

const root = document.getElementById('app');
if (!root) throw new Error('#app is missing from index.html');
createRoot(root).render(
  <StrictMode>
    <App page={openPlaygroundPage()} />
  </StrictMode>,
);
