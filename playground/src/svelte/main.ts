import { mount } from 'svelte';
import '../shared/styles.css';
import { openPlaygroundPage } from '../shared/playground';
import App from './App.svelte';
import { mountInspector } from '../shared/inspector';

const target = document.getElementById('app');
if (!target) throw new Error('#app is missing from svelte.html');
const page = openPlaygroundPage();
mountInspector(document.body, page.session);
mount(App, { target, props: { page } });
